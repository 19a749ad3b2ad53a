"""`stargate fabric`: the contract of DESIGN.md, the comparison, multi-site, and bad input."""

import pytest

FABRIC_KEYS = {
    "tiers", "switches", "switches_by_tier", "links_by_tier", "transceivers", "cables", "fabric_capex_usd",
    "fabric_power_w", "bisection_bw_bytes_per_s", "switch_radix",
}


def test_32768_infiniband_fat_tree_worked_example(cli):
    # docs/network.md works this example by hand: 3 tiers of 64-port switches, 1,024 + 1,024 + 512.
    r = cli("fabric", "--gpus", "32768", "--fabric", "infiniband", "--topology", "fat-tree",
            "--oversubscription", "1", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    assert FABRIC_KEYS <= d.keys()
    assert d["tiers"] == 3 and d["switch_radix"] == 64
    assert d["switches_by_tier"] == [1024, 1024, 512] and d["switches"] == 2560
    assert d["links_by_tier"] == [32768, 32768, 32768]
    assert d["bisection_bw_bytes_per_s"] == pytest.approx(32768 / 2 * 400e9 / 8)
    assert sum(d["fabric_capex_breakdown_usd"].values()) == pytest.approx(d["fabric_capex_usd"])
    assert sum(d["fabric_power_breakdown_w"].values()) == pytest.approx(d["fabric_power_w"])
    assert d["nics"] == 32768


def test_compare_puts_both_families_side_by_side(cli):
    d = cli("fabric", "--gpus", "32768", "--topology", "fat-tree", "--planes", "1", "--compare", "--json").json()
    ib, eth = d["fabrics"]
    assert (ib["fabric"], eth["fabric"]) == ("infiniband", "ethernet")
    # One plane: Spectrum-4 runs 128 ports of 400G: 256 leaves x 2 ... = 512 + 512 + 256 switches.
    assert eth["switch_radix"] == 128 and eth["switches_by_tier"] == [512, 512, 256]
    for key in ("fabric_capex_usd", "fabric_power_w", "tiers", "transceivers", "worst_case_latency_s"):
        assert d["comparison"][key]["infiniband"] == ib[key]
    assert set(d["comparison"]["collectives_s"]) == set(ib["collectives_s"])
    assert cli("fabric", "--gpus", "4096", "--compare").code == 0


def test_oversubscription_cuts_bisection_and_switches(cli):
    full = cli("fabric", "--gpus", "16384", "--json").json()
    over = cli("fabric", "--gpus", "16384", "--oversubscription", "3", "--json").json()
    assert over["bisection_bw_bytes_per_s"] < full["bisection_bw_bytes_per_s"]
    assert over["switches"] < full["switches"]
    assert over["oversubscription_by_tier"][0] == 3.0


def test_planes_split_the_rate(cli):
    one = cli("fabric", "--gpus", "16384", "--json").json()
    two = cli("fabric", "--gpus", "16384", "--planes", "2", "--json").json()
    assert two["link_bits_per_s"] == one["link_bits_per_s"] / 2
    assert two["switch_radix"] == 2 * one["switch_radix"]  # Quantum-2 runs 128 ports at 200G
    assert two["tiers"] <= one["tiers"]


def test_multisite_reports_the_cost_of_spreading(cli):
    d = cli("fabric", "--gpus", "65536", "--accelerator", "gb200", "--sites", "2", "--site-distance", "200 km",
            "--gradient", "810 GB", "--json").json()
    ms = d["multisite"]
    assert ms["sites"] == 2 and ms["gpus_per_site"] == 32768
    assert ms["link"]["latency_s"] == pytest.approx(200e3 * 4.9e-9, rel=0.01)  # ~4.9 us per km of fibre
    assert ms["added_step_time_s"] > 0
    r = cli("fabric", "--gpus", "65536", "--sites", "2")
    assert r.code == 0 and "sites" in r.stdout


def test_design_uses_the_fabric_model(cli):
    design = cli("design", "--accelerator", "h100", "--gpus", "32768", "--json").json()
    fabric = cli("fabric", "--gpus", "32768", "--accelerator", "h100", "--json").json()
    assert design["capex_breakdown_usd"]["network"] == pytest.approx(fabric["fabric_capex_usd"])
    assert design["it_power_breakdown_w"]["network"] == pytest.approx(fabric["fabric_power_w"])


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--gpus", "100000", "--tiers", "2"], ["--gpus", "100000", "2 tiers"]),
        (["--gpus", "1024", "--oversubscription", "0.5"], ["--oversubscription", "0.5"]),
        (["--gpus", "1024", "--switch", "quantum-9"], ["switch", "quantum-9", "did you mean"]),
        (["--gpus", "1024", "--switch", "spectrum-4"], ["--switch", "spectrum-4", "infiniband"]),
        (["--gpus", "0"], ["--gpus", "0"]),
        (["--gpus", "1024", "--sites", "2", "--site-distance", "5 GW"], ["--site-distance", "5 GW"]),
        (["--gpus", "1024", "--topology", "torus"], ["--topology", "torus"]),
    ],
)
def test_bad_input(cli, args, fragments):
    r = cli("fabric", *args)
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    for frag in fragments:
        assert frag in line
