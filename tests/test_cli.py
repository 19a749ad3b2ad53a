"""The command line: JSON contracts of DESIGN.md, readable output, and one-line errors."""

import subprocess
import sys

import pytest

DESIGN_KEYS = {
    "gpus", "racks", "kw_per_rack", "cooling", "it_power_w", "facility_power_w", "pue", "capex_usd",
    "capex_breakdown_usd", "opex_usd_per_year", "tco_usd_per_gpu_hour",
}


def test_design_json_contract(cli):
    r = cli("design", "--accelerator", "gb200", "--budget", "100e9", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    assert DESIGN_KEYS <= d.keys()
    assert {"accelerators", "network", "facility"} <= d["capex_breakdown_usd"].keys()
    assert d["capex_usd"] <= 100e9


def test_design_by_power_string(cli):
    d = cli("design", "--accelerator", "gb200", "--power", "5 GW", "--json").json()
    assert d["facility_power_w"] <= 5e9
    assert d["sizing"] == "power"


def test_design_ethernet_differs_from_infiniband(cli):
    ib = cli("design", "--accelerator", "h100", "--gpus", "16384", "--json").json()
    eth = cli("design", "--accelerator", "h100", "--gpus", "16384", "--fabric", "ethernet", "--json").json()
    assert ib["capex_breakdown_usd"]["network"] != eth["capex_breakdown_usd"]["network"]
    assert ib["capex_breakdown_usd"]["accelerators"] == eth["capex_breakdown_usd"]["accelerators"]


def test_design_readable_summary(cli):
    r = cli("design", "--accelerator", "h100", "--gpus", "1024")
    assert r.code == 0 and "1,024" in r.stdout and "kW per rack" in r.stdout and "Capex" in r.stdout


def test_plan_builtin_scenario(cli):
    r = cli("plan", "--json")
    assert r.code == 0, r.stderr
    plan = r.json()
    phase = plan["phases"][0]
    for key in ("name", "year", "gpus", "accelerator", "capex_usd", "facility_power_w", "peak_flops", "largest_model_params"):
        assert key in phase
    assert plan["phases"][-1]["capex_usd"] <= 100e9  # phase 5, sized by its reported $100B
    assert plan["totals"]["capex_usd"] == pytest.approx(sum(p["capex_usd"] for p in plan["phases"]))


def test_plan_scenario_file(cli, tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: two\nphases:\n  - {name: a, year: 2026, accelerator: h100, gpus: 1024}\n"
                 "  - {name: b, year: 2027, accelerator: mi300x, power_w: 100 MW, fabric: ethernet}\n")
    plan = cli("plan", str(f), "--json").json()
    assert [p["name"] for p in plan["phases"]] == ["a", "b"]


def test_catalog_list_and_show(cli):
    listing = cli("catalog", "list", "accelerators", "--json").json()
    assert any(e["id"] == "h100-sxm-80g" for e in listing["accelerators"])
    shown = cli("catalog", "show", "h100", "--json").json()
    assert shown["kind"] == "accelerators" and shown["source"]
    assert cli("catalog", "show", "dgx-h100").code == 0
    assert cli("catalog", "list").code == 0


def test_catalog_option_on_every_command(cli, tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("accelerators:\n  - id: h100-sxm-80g\n    price_usd: 1000\n")
    cheap = cli("design", "--accelerator", "h100", "--gpus", "8", "--catalog", str(f), "--json").json()
    assert cheap["capex_breakdown_usd"]["accelerators"] == 8000
    assert cli("catalog", "show", "h100", "--catalog", str(f), "--json").json()["price_usd"] == 1000
    assert cli("plan", "--catalog", str(f), "--json").code == 0


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["design", "--accelerator", "h1000", "--gpus", "8"], ["--accelerator", "h1000", "did you mean"]),
        (["design", "--accelerator", "h100", "--budget", "-5"], ["--budget", "-5", "above 0"]),
        (["design", "--accelerator", "h100", "--budget", "0"], ["--budget", "above 0"]),
        (["design", "--accelerator", "h100", "--power", "5 GB"], ["--power", "5 GB", "watt"]),
        (["design", "--accelerator", "h100", "--gpus", "8", "--budget", "1e9"], ["sizing", "exactly one"]),
        (["design", "--accelerator", "h100"], ["sizing", "exactly one"]),
        (["design", "--accelerator", "h100", "--gpus", "lots"], ["--gpus", "lots"]),
        (["design", "--accelerator", "h100", "--gpus", "8", "--fabric", "token-ring"], ["--fabric", "token-ring"]),
        (["catalog", "show", "nothing-like-it"], ["id", "nothing-like-it"]),
        (["catalog", "list", "gizmos"], ["kind", "gizmos"]),
        (["plan", "/no/such/file.yaml"], ["scenario", "file.yaml"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, fragments):
    r = cli(*args)
    assert r.code == 2
    assert r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    for frag in fragments:
        assert frag in line


def test_malformed_catalog_file_is_one_line(cli, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("accelerators:\n  - id: h100-sxm-80g\n    tdp_w: hot\n")
    r = cli("design", "--accelerator", "h100", "--gpus", "8", "--catalog", str(f))
    assert r.code == 2 and "tdp_w" in r.stderr and "hot" in r.stderr and r.stderr.count("\n") == 1


def test_bad_scenario_file(cli, tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nphases:\n  - {name: a, year: 2026, accelerator: h100, gpus: 8, colour: red}\n")
    r = cli("plan", str(f))
    assert r.code == 2 and "colour" in r.stderr


def test_real_entry_point_in_a_subprocess():
    # The installed console script and `python -m stargate` behave like the in-process runs.
    r = subprocess.run([sys.executable, "-m", "stargate", "design", "--accelerator", "nope", "--gpus", "8"],
                       check=False, capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "stargate", "--help"], check=False, capture_output=True, text=True)
    assert r.returncode == 0 and "design" in r.stdout
