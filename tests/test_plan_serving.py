"""Serving capacity in the plan: per-phase figures, the training/serving split, and bad scenario values."""

from typing import Any

import pytest

from stargate.capacity import deployment_gpus
from stargate.catalog import Catalog
from stargate.inference import ServingRequest, serve
from stargate.plan import builtin_scenario, run_plan
from stargate.scenario import Phase, Scenario, ServingWorkload
from stargate.training.presets import preset

SERVING_KEYS = {"tokens_per_day", "tokens_per_s", "users", "usd_per_million_tokens", "tokens_per_mw", "serving_gpus",
                "tokens_per_s_per_gpu", "deployment", "meets_limits", "frontier"}
SMALL = ServingWorkload(model="llama3.1-70b", tokens_per_user=20)


@pytest.fixture(scope="module")
def builtin() -> dict[str, Any]:
    return run_plan(builtin_scenario()).model_dump(mode="json")


def _plan(*phases: Phase, workload: ServingWorkload = SMALL) -> list[Any]:
    return run_plan(Scenario(name="s", phases=phases, serving=workload)).phases


def test_every_servable_phase_states_its_serving_capacity(builtin):
    """Every phase serves the reference workload; V100 (fp16 matrix units only) at 16 bits, and the plan says so."""
    p1, *rest = builtin["phases"]
    assert p1["serving"]["precision"] == "bf16" and any("v100-32g has no fp8 matrix units" in w for w in p1["warnings"])
    for p in rest:
        s = p["serving"]
        assert SERVING_KEYS <= s.keys(), p["name"]
        assert s["serving_gpus"] == p["gpus"] and s["meets_limits"]
        assert s["tokens_per_s"] == pytest.approx(s["tokens_per_s_per_gpu"] * p["gpus"])
        assert s["tokens_per_day"] == pytest.approx(s["tokens_per_s"] * 86400)
        assert s["tpot_p99_s"] <= 1 / 25 * (1 + 1e-9) and s["ttft_p99_s"] <= 2.0  # the scenario's limits
    assert rest[0]["serving"]["precision"] == "bf16"  # A100: no fp8 matrix units
    assert builtin["totals"]["serving_tokens_per_day"] == pytest.approx(sum(p["serving"]["tokens_per_day"]
                                                                            for p in builtin["phases"]))


def test_price_and_power_per_token_by_hand(builtin):
    """$ per million tokens = TCO per GPU-hour / tokens per GPU-hour; tokens/s per MW of facility power."""
    for p in builtin["phases"][1:]:
        s, d = p["serving"], p["design"]
        tokens_per_gpu_hour = s["tokens_per_s_per_gpu"] * 3600
        assert s["usd_per_million_tokens"] == pytest.approx(d["tco_usd_per_gpu_hour"] / tokens_per_gpu_hour * 1e6)
        assert s["tokens_per_mw"] == pytest.approx(s["tokens_per_s"] / (p["facility_power_w"] / 1e6))


def test_replica_sized_search_gives_the_large_deployment_answer():
    """The plan searches 2R GPUs (R: the replica cap); a deployment four times as large, under the
    same cap, gets the same per-GPU throughput and users per GPU, up to the rounding of disaggregated
    pools to whole replicas (under 1% at 2R GPUs)."""
    model, cat = preset("llama3.1-70b"), Catalog.load()
    n, cap = deployment_gpus(cat.accelerator("h100").scale_up_domain)
    answers = [serve(model, ServingRequest(accelerator="h100", gpus=g, max_replica_gpus=cap, input_tokens=1024,
                                           output_tokens=1024, tokens_per_user=20), cat) for g in (n, 4 * n)]
    assert answers[0].tokens_per_s_per_gpu == pytest.approx(answers[1].tokens_per_s_per_gpu, rel=0.01)
    assert answers[0].concurrent_users / n == pytest.approx(answers[1].concurrent_users / (4 * n), rel=0.01)


def test_serving_share_splits_the_gpus():
    """A quarter of 16,384 H100 serve; the training figures are those of the other 12,288 on their own."""
    split, alone = _plan(Phase(name="split", year=2024, accelerator="h100", gpus=16384, serving_share=0.25),
                         Phase(name="alone", year=2024, accelerator="h100", gpus=12288))
    assert split.serving["serving_gpus"] == 4096 and split.training_gpus == 12288
    assert (split.jobs, split.job_gpus, split.reference_job) == (alone.jobs, alone.job_gpus, alone.reference_job)
    assert split.goodput == pytest.approx(alone.goodput)
    assert split.mfu == pytest.approx(alone.mfu * 12288 / 16384)  # the serving GPUs do no training
    assert split.usable_flops == pytest.approx(alone.usable_flops)
    assert split.largest_model_params == pytest.approx(alone.largest_model_params)
    assert split.serving["tokens_per_s"] == pytest.approx(alone.serving["tokens_per_s_per_gpu"] * 4096)
    assert split.serving["users"] == pytest.approx(alone.serving["users"] / 12288 * 4096)


def test_serving_share_rounds_down_to_whole_domains():
    (p,) = _plan(Phase(name="p", year=2026, accelerator="gb200", gpus=1440, serving_share=0.3))
    assert p.serving["serving_gpus"] == 432 and p.training_gpus == 1008  # 0.3 x 1440 = 432 = 6 NVL72 domains


def test_without_a_share_the_training_answers_ignore_the_workload():
    """No serving_share: the phase trains on all its GPUs, whatever the serving workload."""
    phase = Phase(name="p", year=2024, accelerator="h100", gpus=8192)
    (a,) = _plan(phase)
    (b,) = _plan(phase, workload=ServingWorkload())
    assert a.training_gpus == a.gpus == a.serving["serving_gpus"]
    drop = {"serving", "warnings"}
    assert a.model_dump(exclude=drop) == b.model_dump(exclude=drop)
    assert a.serving["model"] != b.serving["model"]


def test_one_search_per_accelerator(monkeypatch):
    """Phases of one chip share one serving search."""
    from stargate import capacity as serving

    calls = []
    real = serving.serve
    monkeypatch.setattr(serving, "serve", lambda *a, **k: calls.append(a[1].accelerator) or real(*a, **k))
    _plan(*(Phase(name=f"p{i}", year=2024, accelerator="h100", gpus=1024 * (i + 1)) for i in range(3)))
    assert calls == ["h100-sxm-80g"]


def test_plan_csv_and_terminal_show_serving(cli):
    csv = cli("plan", "--csv")
    assert csv.code == 0 and "serving,usd_per_million_tokens" in csv.stdout and "serving_tokens_per_day" in csv.stdout
    text = cli("plan").stdout
    assert "serving deepseek-v3" in text and "$ per million tokens" in text and "serving workload:" in text


def test_plan_workbook_has_a_serving_sheet(builtin):
    from stargate.report.export import plan_sheets

    sheet = plan_sheets(builtin, [])["Serving"]
    header = sheet[0]
    assert "tokens_per_day (token/day)" in header and "usd_per_million_tokens (USD/Mtoken)" in header
    assert len(sheet) == 1 + len(builtin["phases"])


SERVING = "name: x\nserving: {serving}\nphases:\n  - {{name: alpha, year: 2026, accelerator: h100, gpus: 64{extra}}}\n"


@pytest.mark.parametrize(
    ("serving", "extra", "fragments"),
    [
        ("{tokens_per_user: -3}", "", ["serving.tokens_per_user", "-3"]),
        ("{ttft_s: .inf}", "", ["serving.ttft_s"]),
        ("{model: nope}", "", ["serving.model", "'nope'"]),
        ("{precision: fp6}", "", ["serving.precision", "'fp6'"]),
        ("{input_tokens: 1x}", "", ["serving.input_tokens", "'1x'"]),
        ("{output_tokens: 0}", "", ["serving.output_tokens"]),
        ("{tpot_s: 0.05, tokens_per_user: 20}", "", ["serving", "once"]),
        ("{colour: red}", "", ["serving.colour"]),
        ("{}", ", serving_share: 1.5", ["phase 'alpha'.serving_share", "1.5"]),
        ("{}", ", serving_share: -0.1", ["phase 'alpha'.serving_share", "-0.1"]),
        ("{}", ", serving_share: half", ["phase 'alpha'.serving_share", "'half'"]),
    ],
)
def test_bad_serving_values(cli, tmp_path, serving, extra, fragments):
    f = tmp_path / "bad.yaml"
    f.write_text(SERVING.format(serving=serving, extra=extra))
    r = cli("plan", str(f))
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert line.startswith("stargate: error: ") and "\n" not in line and "Traceback" not in line
    for frag in fragments:
        assert frag in line, line
