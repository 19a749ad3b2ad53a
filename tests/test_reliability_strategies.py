"""Recovery strategies, warm spares and jobs as they are run, against the reference rows.

The bands come from ``shared/validation/clusters.csv`` (c8: Llama 3 405B, c9: Kokolis et al.,
c10: ByteRobust); the restart law's anchors from Meta's FT-HSDP paper (arXiv:2602.00277); the
checks of the breakdown and the Monte Carlo are invariants.
"""

import math

import pytest

from stargate.catalog import Catalog
from stargate.plan import builtin_scenario, run_plan
from stargate.reference import BATCH_CAP_TOKENS, GPUS_PER_SEQUENCE, job_layout
from stargate.reliability.failures import interruptions
from stargate.reliability.simulate import simulate_strategy
from stargate.reliability.spares import repair_rate_per_gpu_s, spare_gpus
from stargate.reliability.strategies import best_strategy, evaluate, restart_s, strategy_ids

CAT = Catalog.load()
H100_DOMAIN = CAT.accelerator("h100-sxm-80g").scale_up_domain


def _rec(name):
    return CAT.get("recovery", name)


def _spare_share(gpus, domain=H100_DOMAIN):
    s = spare_gpus(gpus, domain, CAT)
    return s / (gpus + s)


def test_c8_llama3_storage_checkpoints_land_in_the_published_band():
    # c8: 16,384 H100, 405B, storage checkpoints and full restarts as Llama 3 did: goodput 0.90-0.97.
    r = evaluate(_rec("storage-restart"), 16384, 405e9, CAT, replica_gpus=8 * 16, domain_gpus=H100_DOMAIN,
                 spare_fraction=_spare_share(16384))
    assert 0.90 <= r.goodput <= 0.97
    # The 54-day run: 419 interruptions (Llama 3, Table 5) and a seeded simulation of those 54 days agrees.
    assert interruptions(16384, CAT).per_hour * 24 * 54 == pytest.approx(419, abs=1)
    assert simulate_strategy(r, 0, 0, 54 * 86400, seed=3) == pytest.approx(r.goodput, rel=0.02)


def test_c9_mtbf_of_a_131k_gpu_job():
    # c9: Kokolis et al. (arXiv:2410.21680) project 828 s at 131,072 GPUs; band 500-1,500 s.
    assert 500 <= interruptions(131_072, CAT).mtbf_s <= 1500


def test_c10_bytedance_warm_standbys_and_modern_recovery():
    # c10: 9,600 H100 for 3 months with warm standbys (ByteRobust, 97% ETTR): band 0.90-0.99.
    best, each = best_strategy(9600, 405e9, CAT, replica_gpus=128, domain_gpus=H100_DOMAIN,
                               spare_fraction=_spare_share(9600))
    assert 0.90 <= best.goodput <= 0.99
    assert best.goodput == max(each.values()) and best.strategy != "storage-restart"


def test_restart_law_hits_its_anchors_and_grows_with_size():
    # Meta, arXiv:2602.00277: 10 min (synchronous) and 3 min (replica-scoped) stalls at O(100K) GPUs.
    assert restart_s(_rec("storage-restart"), 100_000) == pytest.approx(600, abs=1)
    assert restart_s(_rec("elastic"), 100_000) == pytest.approx(180, abs=1)
    # MegaScale (NSDI'24): initialisation under 5 s at 2,048 GPUs, under 30 s past 10,000: ~10 s per doubling.
    for name in strategy_ids(CAT):
        rec = _rec(name)
        assert restart_s(rec, 2 * 12_288) - restart_s(rec, 12_288) == pytest.approx((30 - 5) / math.log2(6), rel=0.05)


@pytest.mark.parametrize("name", ["storage-restart", "memory-restart", "elastic"])
@pytest.mark.parametrize("gpus", [4096, 16384, 57344, 262144])
def test_breakdown_parts_add_up_and_monte_carlo_agrees(name, gpus):
    share = _spare_share(gpus, 72)
    r = evaluate(_rec(name), gpus, 1e12, CAT, replica_gpus=128, domain_gpus=72, spare_fraction=share)
    parts = r.breakdown.as_dict()
    assert sum(parts.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(v >= 0 for v in parts.values()) and parts["goodput"] == r.goodput
    assert parts["spares_idle"] == pytest.approx(share)
    if r.goodput > 0.2:  # a run that barely progresses needs too long a simulation to converge
        sim = simulate_strategy(r, 128 / gpus, _rec(name).rejoin_s, 200 * 86400, seed=gpus)
        assert sim == pytest.approx(r.goodput, rel=0.03)


def test_storage_write_bandwidth_saturates_at_the_file_systems_cap():
    rec = _rec("storage-restart")
    per_gpu = CAT.storage("default").write_bw_bytes_per_s_per_gpu
    small = evaluate(rec, 16384, 405e9, CAT)
    assert small.write_s == pytest.approx(405e9 * 14 / (16384 * per_gpu))  # Llama 3: 2 TB/s, 2.8 s
    big = [evaluate(rec, n, 1e12, CAT).write_s for n in (262_144, 1_048_576)]
    assert big[0] == pytest.approx(big[1]) == pytest.approx(14e12 / rec.write_cap_bytes_per_s)


def test_in_memory_checkpoint_is_bound_by_host_bandwidth_per_gpu():
    rec = _rec("memory-restart")
    r = evaluate(rec, 57344, 1e12, CAT, replica_gpus=128, domain_gpus=72)
    assert r.write_s == pytest.approx(14e12 / 128 / rec.memory_write_bw_bytes_per_s_per_gpu)


def test_elastic_needs_two_replicas_and_falls_back_otherwise():
    assert evaluate(_rec("elastic"), 128, 1e12, CAT, replica_gpus=128) is None
    best, each = best_strategy(128, 1e12, CAT, "elastic", replica_gpus=128)
    assert best.strategy != "elastic" and "elastic" not in each


def test_without_spares_every_restart_waits_for_a_node():
    wait = CAT.get("spares", "default").provision_s
    with_, without = (evaluate(_rec("storage-restart"), 16384, 405e9, CAT, spares=s) for s in (True, False))
    assert without.restart_s == pytest.approx(with_.restart_s + wait)
    assert without.goodput < with_.goodput


def test_spares_follow_littles_law():
    sp = CAT.get("spares", "default")
    mean_out = 100_000 * repair_rate_per_gpu_s(CAT) * sp.return_s
    assert spare_gpus(100_000, 72, CAT) == 72 * math.ceil(mean_out + sp.margin_sigmas * math.sqrt(mean_out))
    assert spare_gpus(100_000, 8, CAT, fraction=0.05) == 5000


def test_jobs_as_they_are_run():
    assert job_layout(16384, 2048, 8192).jobs == 1  # Llama 3 405B: one job, 16M tokens
    for gpus in (120_000, 900_000, 2_000_000):
        lay = job_layout(gpus, 2048, 8192)
        assert lay.global_batch * 8192 <= BATCH_CAP_TOKENS
        assert lay.gpus <= GPUS_PER_SEQUENCE * lay.global_batch
        assert lay.jobs * lay.gpus <= gpus and lay.jobs * lay.gpus > 0.8 * gpus


@pytest.fixture(scope="module")
def plan():
    return run_plan(builtin_scenario())


def test_builtin_plan_goodput_in_the_practice_band(plan):
    for p in plan.phases:
        r = p.reliability
        assert p.goodput >= 0.85, p.name
        assert sum(r["goodput_breakdown"].values()) == pytest.approx(1.0)
        assert r["goodput_breakdown"]["goodput"] == pytest.approx(p.goodput)
        assert r["strategy"] in strategy_ids(CAT) and p.goodput == pytest.approx(max(r["strategies"].values()))
        assert p.jobs * p.job_gpus + r["spare_gpus"] <= p.gpus
        assert p.reference_job["global_batch"] * 8192 <= max(BATCH_CAP_TOKENS, 2048 * 8192)
    p5 = plan.phases[-1]
    assert 0.90 <= p5.goodput <= 0.97
    assert p5.jobs > 1 and p5.reliability["spare_gpus"] > 0


def _scenario(tmp_path, extra):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nphases:\n  - {name: alpha, year: 2025, accelerator: h100, gpus: 16384" + extra + "}\n")
    return str(f)


def test_a_phase_may_restrict_the_strategy(cli, tmp_path):
    r = cli("plan", _scenario(tmp_path, ", recovery: storage-restart"), "--json")
    assert r.code == 0, r.stderr
    rel = r.json()["phases"][0]["reliability"]
    assert rel["strategy"] == "storage-restart" and list(rel["strategies"]) == ["storage-restart"]
    r = cli("plan", _scenario(tmp_path, ", hot_spare_fraction: 0.05"), "--json")
    assert r.json()["phases"][0]["reliability"]["spare_fraction"] == pytest.approx(0.05, rel=0.05)


def test_an_unknown_strategy_is_bad_input(cli, tmp_path):
    r = cli("plan", _scenario(tmp_path, ", recovery: prayer"), "--json")
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "phase 'alpha'.recovery" in line and "prayer" in line and "storage-restart" in line
