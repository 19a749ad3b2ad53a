"""`stargate plan`: the built-in five-phase scenario, alternatives, and bad scenario files."""

import subprocess
import sys
import time
from importlib import resources
from typing import Any

import pytest

from stargate.plan import builtin_scenario, job_shape, run_plan

PHASE_KEYS = {"name", "year", "gpus", "accelerator", "capex_usd", "facility_power_w", "peak_flops", "largest_model_params"}


def test_builtin_plan_json_contract(cli):
    r = cli("plan", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    assert len(d["phases"]) == 5
    for p in d["phases"]:
        assert PHASE_KEYS <= p.keys()
        assert 0 < p["goodput"] <= 1
    years = [p["year"] for p in d["phases"]]
    assert years == sorted(years) and years[0] == 2020
    assert d["totals"]["capex_usd"] == pytest.approx(sum(p["capex_usd"] for p in d["phases"]))
    assert d["totals"]["reported_capex_usd"] == pytest.approx(115e9)
    # Phase 5 is sized by its reported $100B and compared with the reported 5 GW and millions of chips.
    p5 = d["phases"][-1]
    assert p5["capex_usd"] <= 100e9 and p5["reported"]["power_w"] == pytest.approx(5e9)
    assert p5["largest_model_params"] > d["phases"][0]["largest_model_params"]


def test_builtin_plan_runs_in_under_3_seconds():
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "stargate", "plan"], check=False, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert time.perf_counter() - t < 3.0
    assert "Stargate" in r.stdout or "stargate" in r.stdout


def test_every_shipped_scenario_plans():
    names = [p.name.removesuffix(".yaml") for p in (resources.files("stargate") / "scenarios").iterdir()
             if p.name.endswith(".yaml")]
    assert len(names) >= 3
    for name in names:
        plan = run_plan(builtin_scenario(name))
        assert plan.phases and all(p.capex_usd > 0 for p in plan.phases)


def test_job_shape_factors_any_cluster():
    used, batch = job_shape(1_217_520, 2048)
    assert 0.95 * 1_217_520 <= used <= 1_217_520 and batch >= used // 16
    assert job_shape(16384, 2048) == (16384, 2048)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("name: x\nphases:\n  - {name: alpha, year: 2026, accelerator: h100, gpus: 8, colour: red}\n",
         ["phase 'alpha'", "colour"]),
        (("name: x\nphases:\n  - {name: a, year: 2027, accelerator: h100, gpus: 8}\n"
          "  - {name: b, year: 2026, accelerator: h100, gpus: 8}\n"), ["phases", "2027, 2026"]),
        ("name: x\nphases:\n  - {name: beta, year: 2026, accelerator: h100}\n", ["phase 'beta'", "exactly one of"]),
        (("name: x\nphases:\n  - {name: g, year: 2026, accelerator: h100, gpus: 8,"
          " energy_mix: [{source: grid-us, share: 0.5}]}\n"), ["phase 'g'", "add up to 1"]),
        ("phases: []\n", ["name"]),
    ],
)
def test_bad_scenario_files(cli, tmp_path, text, fragments):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    r = cli("plan", str(f))
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    for frag in fragments:
        assert frag in line


def test_multisite_jobs_run_inside_a_site_when_they_fit():
    """A multi-site phase places its jobs site by site: a job that fits in one site pays no WAN
    all-reduce; a job larger than a site spans as few sites as hold it, and pays it every step."""
    from stargate.scenario import Phase, Scenario

    def phase(gpus: int, sites: int) -> Any:
        p = Phase(name="p", year=2025, accelerator="h100", gpus=gpus, sites=sites, site_distance_m=200e3)
        return run_plan(Scenario(name="s", phases=(p,))).phases[0]

    inside = phase(262_144, 2)  # 131k GPUs per site, jobs of at most ~61k GPUs
    assert inside.jobs >= 2 and inside.multisite["sites_per_job"] == 1
    assert inside.multisite["slowdown"] == 1.0 and inside.multisite["links_capex_usd"] > 0
    across = phase(65_536, 4)  # 16k GPUs per site: one job needs several sites
    spans = across.multisite["sites_per_job"]
    assert 2 <= spans <= 4 and spans == -(-across.job_gpus * 4 // across.gpus)
    assert across.multisite["slowdown"] < 1.0
