"""Sites hundreds to thousands of km apart: the links' optics, amplifiers and regeneration priced by
hand, latency that grows with the route, a budget that pays for the links, and the answer in words."""

import math

import pytest

from stargate.catalog import Catalog
from stargate.fabric.design import FabricRequest, plan_fabric
from stargate.fabric.multisite import MultiSiteRequest, multisite, site_link
from stargate.plan import builtin_scenario, run_plan
from stargate.scenario import Phase, Scenario

# The catalog's WAN figures (wan.yaml), written out so that each expectation below is a hand calculation.
PAIR_USD_PER_M = 0.32  # one fibre pair per metre of route
AMPLIFIER_USD = 75_000.0  # one in-line amplifier site, per fibre pair
SPAN_M = 80e3  # an amplifier every 80 km
PROPAGATION_S_PER_M = 4.897e-9
REGEN_LATENCY_S = 10e-6
LH = {"price": 22_500.0, "rate": 400e9, "waves_per_pair": 32, "reach_m": 1_500e3}  # 400g-lh, 150 GHz of 4.8 THz
ZR_PLUS = {"price": 12_500.0, "rate": 400e9, "waves_per_pair": 64, "reach_m": 600e3}  # 400zr-plus, 75 GHz


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return Catalog.load()


def test_catalog_holds_the_figures_the_hand_calculations_use(cat):
    wan = cat.get("wan", "default")
    assert (wan.fiber_pair_usd_per_m, wan.amplifier_usd_per_fiber_pair, wan.amplifier_spacing_m) == (
        PAIR_USD_PER_M, AMPLIFIER_USD, SPAN_M)
    assert (wan.propagation_s_per_m, wan.regenerator_latency_s) == (PROPAGATION_S_PER_M, REGEN_LATENCY_S)
    for oid, o in (("400g-lh", LH), ("400zr-plus", ZR_PLUS)):
        optic = cat.get("wan_optics", oid)
        assert (optic.price_usd, optic.rate_bits_per_s, optic.reach_m) == (o["price"], o["rate"], o["reach_m"])
        assert int(wan.spectrum_hz_per_fiber_pair // optic.channel_spacing_hz) == o["waves_per_pair"]
        assert optic.source and optic.date and optic.confidence


def test_1500_km_link_costs_optics_plus_18_amplifiers_plus_fibre(cat):
    """1,500 km in 80 km spans: 19 spans, 18 in-line amplifier sites; the long-haul optic reaches
    1,500 km, so no regeneration. Four fibre pairs of 32 long-haul wavelengths."""
    link = site_link(1_500e3, 4, cat)
    waves = 4 * LH["waves_per_pair"]
    optics = 2 * waves * LH["price"]  # both ends
    amplifiers = 18 * 4 * AMPLIFIER_USD
    fibre = 4 * 1_500e3 * PAIR_USD_PER_M
    assert link.optic == "400g-lh" and link.wavelengths == waves == 128
    assert link.amplifier_sites == 18 and link.regenerator_sites == 0 and link.regenerators == 0
    assert link.capex_breakdown_usd == pytest.approx(
        {"optics": optics, "fiber": fibre, "line_system": amplifiers, "regenerators": 0.0})
    assert link.capex_usd == pytest.approx(5_760_000 + 1_920_000 + 5_400_000)  # $13.08M
    assert link.capacity_bits_per_s == pytest.approx(waves * 400e9)
    assert link.latency_s == pytest.approx(1_500e3 * PROPAGATION_S_PER_M)  # 7.3 ms: ~4.9 us per km


def test_beyond_the_optics_reach_every_wavelength_is_regenerated(cat):
    """3,000 km on 600 km optics: 5 stretches, 4 regeneration sites, each wavelength received and
    sent again by two optics there; 37 amplifier sites (38 spans of at most 80 km)."""
    link = site_link(3_000e3, 4, cat, optic="400zr-plus")
    waves = 4 * ZR_PLUS["waves_per_pair"]
    assert link.regenerator_sites == 4 and link.regenerators == 4 * waves == 1024
    assert link.amplifier_sites == math.ceil(3_000 / 80) - 1 == 37
    assert link.capex_breakdown_usd["regenerators"] == pytest.approx(4 * waves * 2 * ZR_PLUS["price"])  # $25.6M
    assert link.capex_breakdown_usd["optics"] == pytest.approx(2 * waves * ZR_PLUS["price"])
    assert link.capex_breakdown_usd["line_system"] == pytest.approx(37 * 4 * AMPLIFIER_USD)
    assert link.latency_s == pytest.approx(3_000e3 * PROPAGATION_S_PER_M + 4 * REGEN_LATENCY_S)


def test_span_counts_at_exact_multiples_and_the_cheapest_link_per_bit(cat):
    assert site_link(160e3, 1, cat).amplifier_sites == 1  # two 80 km spans
    assert site_link(600e3, 4, cat, optic="400zr-plus").regenerator_sites == 0  # exactly the reach
    for km in (100, 200, 1_000, 1_500, 5_000):
        best = site_link(km * 1e3, 4, cat)
        for oid in ("400zr", "400zr-plus", "800zr", "400g-lh"):
            other = site_link(km * 1e3, 4, cat, optic=oid)
            assert best.capex_usd / best.capacity_bits_per_s <= other.capex_usd / other.capacity_bits_per_s + 1e-15


def test_the_longest_supported_route_is_priced_and_one_metre_more_is_refused(cat):
    assert site_link(20_000e3, 4, cat).capex_usd > site_link(1_500e3, 4, cat).capex_usd
    from stargate.errors import InputError

    with pytest.raises(InputError, match="20,000 km"):
        site_link(20_000e3 + 1, 4, cat)


def test_added_step_time_grows_with_the_routes_latency(cat):
    """A small gradient is latency-bound: going from 200 km to 1,500 km adds the extra propagation
    twice per all-reduce (a two-site tree: one step up, one down)."""
    plan = plan_fabric(FabricRequest(gpus=16384), cat)

    def added(km: float) -> float:
        req = MultiSiteRequest(sites=2, distance_m=f"{km} km", gradient_bytes=1e3)
        return multisite(req, 16384, plan, cat).added_step_time_s

    assert added(1_500) - added(200) == pytest.approx(2 * 1_300e3 * PROPAGATION_S_PER_M, rel=1e-3)
    assert added(200) < added(1_500) < added(5_000)


def test_a_job_across_distant_sites_slows_more():
    def phase(km: float):
        p = Phase(name="p", year=2025, accelerator="h100", gpus=65_536, sites=4, site_distance_m=f"{km} km")
        return run_plan(Scenario(name="s", phases=(p,))).phases[0]

    near, far = phase(200), phase(1_500)
    assert near.multisite["sites_per_job"] >= 2
    assert far.multisite["slowdown"] < near.multisite["slowdown"] < 1.0
    assert far.mfu < near.mfu
    for p in (near, far):
        ms = p.multisite
        assert ms["added_step_time_fraction"] == pytest.approx(ms["added_step_time_s"] / ms["step_time_s"])
        assert ms["slowdown"] == pytest.approx(1 / (1 + ms["added_step_time_fraction"]))


def test_multisite_plan_capex_fits_its_budget():
    """The built-in multi-site phase is sized by its $100B budget: compute, links and all fit in it."""
    p = run_plan(builtin_scenario("stargate-multisite")).phases[0]
    links = p.multisite["links_capex_usd"]
    assert links > 0
    assert p.capex_usd <= 100e9
    assert p.capex_usd == pytest.approx(p.design.capex_usd + links)
    assert p.multisite["links_capex_fraction"] == pytest.approx(links / p.capex_usd)
    # The sites got what the links left: one more system would not have fitted.
    assert p.design.limit["next_system_capex_usd"] + links > 100e9


def test_budget_sized_phases_at_several_distances_fit_their_budget():
    for km in (200, 1_500, 8_000):
        ph = Phase(name="p", year=2025, accelerator="h100", budget_usd=2e9, sites=3, site_distance_m=f"{km} km")
        p = run_plan(Scenario(name="s", phases=(ph,))).phases[0]
        assert p.capex_usd <= 2e9
        assert p.capex_usd == pytest.approx(p.design.capex_usd + p.multisite["links_capex_usd"])


def test_a_budget_the_links_alone_exhaust_is_refused(tmp_path, cli):
    f = tmp_path / "s.yaml"
    f.write_text("name: s\nphases:\n  - name: p\n    year: 2025\n    accelerator: h100\n    budget_usd: 5e6\n"
                 "    sites: 3\n    site_distance_m: 8000 km\n")
    r = cli("plan", str(f))
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "budget_usd" in line and "links between its sites" in line


def test_plan_table_shows_sites_links_cost_and_added_step_time(cli):
    r = cli("plan", "--builtin", "stargate-multisite")
    assert r.code == 0, r.stderr
    out = r.stdout
    for fragment in ("sites", "3 × ", "200 km apart", "4 fibre pairs", "400zr-plus", "amplifier sites",
                     "no regeneration", "links capex", "of capex", "link latency", "added step time",
                     "each job fits in one site"):
        assert fragment in out, fragment
    assert "site links" not in cli("plan", "--builtin", "stargate").stdout  # one-site plans keep their table


def test_plan_table_shows_the_step_time_a_spanning_job_pays(tmp_path, cli):
    f = tmp_path / "s.yaml"
    f.write_text("name: s\nphases:\n  - name: p\n    year: 2025\n    accelerator: h100\n    gpus: 65536\n"
                 "    sites: 4\n    site_distance_m: 1500 km\n")
    out = cli("plan", str(f)).stdout
    data = cli("plan", str(f), "--json").json()["phases"][0]["multisite"]
    pct = 100 * data["added_step_time_fraction"]
    assert f"{pct:.1f}% of the step" in out
    assert "1,500 km apart" in out and "400g-lh" in out and "18 amplifier sites" in out


def test_report_shows_the_multisite_rows(tmp_path, cli):
    out = tmp_path / "r.html"
    assert cli("report", "--builtin", "stargate-multisite", "-o", str(out)).code == 0
    html = out.read_text()
    for fragment in ("<th>sites</th>", "<th>site links</th>", "<th>links capex</th>", "<th>added step time</th>",
                     "200 km apart", "400zr-plus"):
        assert fragment in html, fragment


def test_fabric_sites_text_names_the_link_parts(cli):
    r = cli("fabric", "--gpus", "65536", "--accelerator", "gb200", "--sites", "2", "--site-distance", "3000 km")
    assert r.code == 0, r.stderr
    text = " ".join(r.stdout.split())
    for fragment in ("3,000 km apart", "4 fibre pairs", "amplifier sites", "regeneration sites", "regenerators",
                     "of the fabric's capex", "of the one-site all-reduce"):
        assert fragment in text, fragment


def test_fabric_sites_json_prices_1500_km(cli):
    r = cli("fabric", "--gpus", "65536", "--accelerator", "gb200", "--sites", "2", "--site-distance", "1500 km", "--json")
    assert r.code == 0, r.stderr
    link = r.json()["multisite"]["link"]
    assert link["distance_m"] == 1_500e3 and link["amplifier_sites"] == 18
    assert link["capex_usd"] == pytest.approx(13_080_000)


@pytest.mark.parametrize("typed", ["25000 km", "20001 km", "0 km", "-5 km", "7e7 ft"])
def test_fabric_refuses_a_route_past_20000_km_echoing_it_as_typed(cli, typed):
    r = cli("fabric", "--gpus", "16384", "--sites", "2", "--site-distance", typed)
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"stargate: error: --site-distance: '{typed}' is not allowed; expected")
    assert "20,000 km" in line


@pytest.mark.parametrize("typed", ["25000 km", "2.5e7", "-1"])
def test_scenario_refuses_a_route_past_20000_km_echoing_it_as_typed(tmp_path, cli, typed):
    f = tmp_path / "s.yaml"
    f.write_text("name: s\nphases:\n  - name: p\n    year: 2025\n    accelerator: h100\n    gpus: 1024\n"
                 f"    sites: 2\n    site_distance_m: {typed}\n")
    r = cli("plan", str(f))
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "site_distance_m" in line and "20,000 km" in line
    assert typed in line and "000000.0" not in line  # as typed, never re-expressed in metres


def test_a_budget_that_buys_a_system_but_not_the_system_and_the_links_is_refused(tmp_path, cli):
    """$8M buys one GB200 NVL72 with its building ($5.4M) in one site, but not with two sites'
    100 km link ($3.8M) on top: the error says both."""
    body = "name: s\nphases:\n  - {name: p, year: 2025, accelerator: gb200, budget_usd: 8e6%s}\n"
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text(body % "")
    two.write_text(body % ", sites: 2, site_distance_m: 100 km")
    assert cli("plan", str(one)).code == 0
    r = cli("plan", str(two))
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "phase 'p'.budget_usd" in line and "8000000" in line
    assert "gb200-nvl72" in line and "plus the links between its sites ($3.8M)" in line


def test_site_counts_take_scale_letters_as_other_counts_do(cli):
    """`--fiber-pairs 1k` is 1,000 pairs, read by the one count parser; a bad or too large one is named."""
    args = ("fabric", "--gpus", "100k", "--accelerator", "gb200", "--fabric", "ethernet", "--sites", "2",
            "--site-distance", "1500 km", "--model-parallel", "72")
    r = cli(*args, "--fiber-pairs", "1k", "--json")
    assert r.code == 0, r.stderr
    assert r.json()["multisite"]["link"]["fiber_pairs"] == 1000
    assert "1,000 fibre pairs" in cli(*args, "--fiber-pairs", "1k").stdout
    for bad, why in (("1x", "a whole number like"), ("200k", "at most 100,000")):
        e = cli(*args, "--fiber-pairs", bad)
        assert e.code == 2 and e.stderr.startswith(f"stargate: error: --fiber-pairs: '{bad}'") and why in e.stderr


def test_a_phase_sets_the_fibre_pairs_of_its_site_links(tmp_path, cli):
    """`site_fiber_pairs` in a scenario phase prices and carries that many pairs per link (a ring of
    3 sites has 3 links); the default stays 4; a bound past 100,000 is refused, named as written."""
    from stargate.catalog import Catalog
    from stargate.fabric.multisite import site_link

    def phase(extra: str) -> str:
        return ("name: ms\nphases:\n  - {name: P, year: 2028, accelerator: rubin-288g, budget_usd: 100e9, "
                f"fabric: ethernet, sites: 3, site_distance_m: 1500 km{extra}}}\n")

    cat = Catalog.load()
    for extra, pairs in (("", 4), (", site_fiber_pairs: 16", 16)):
        path = tmp_path / f"ms{pairs}.yaml"
        path.write_text(phase(extra))
        ms = cli("plan", str(path), "--json").json()["phases"][0]["multisite"]
        assert ms["link"]["fiber_pairs"] == pairs
        assert ms["links_capex_usd"] == pytest.approx(3 * site_link(1.5e6, pairs, cat).capex_usd)
    bad = tmp_path / "bad.yaml"
    bad.write_text(phase(", site_fiber_pairs: 1e9"))
    r = cli("plan", str(bad))
    assert r.code == 2 and "site_fiber_pairs: '1e9' is not allowed" in r.stderr and r.stderr.count("\n") == 1
