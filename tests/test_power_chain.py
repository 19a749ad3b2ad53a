"""Power for capacity, on-site generation, dense cooling and the cost of capital (issue 12, items 4 and 6).

The reference rows come from ``shared/validation/clusters.csv`` (published figure and credible
band per row); each test rebuilds the row's inputs. Rows the model does not reach are strict xfails
that say why, so a later fix shows up.
"""

import pytest

from stargate.catalog.schema import EnergySource
from stargate.cluster.design import design_cluster, evaluate, largest_within, resolve
from stargate.cluster.racks import choose_cooling
from stargate.economics.tco import capital_recovery_factor
from stargate.scenario import DesignRequest

EPOCH_SERVER_PER_GPU = 1.53  # Epoch AI 2025-12-18: server power = 1.53 x GPU power
EPOCH_IT_PER_SERVER = 1.14  # all IT = 1.14 x server power
EPOCH_FACILITY_PER_IT = 1.4  # facility = 1.4 x IT at peak operation
EPOCH_FACILITY_PER_TDP = 2.44  # clusters.csv c13: 1.53 x 1.14 x 1.4


def design(**kw):
    return design_cluster(DesignRequest(**kw))


def servers_w(d):
    b = d.it_power_breakdown_w
    return b["accelerators"] + b["rest_of_servers"]


# --- the power chain -------------------------------------------------------------------------


def test_facility_power_uses_design_pue_and_energy_the_annual_pue(catalog):
    d = design(accelerator="gb200", gpus=7200)
    tech = catalog.cooling(d.cooling)
    assert d.design_pue == tech.design_pue and d.annual_pue == tech.pue and d.pue == d.design_pue
    assert d.facility_power_w == pytest.approx(d.it_power_w * tech.design_pue, rel=1e-12)
    # Hand calculation of the energy bill: typical system power x (1 + support share) + fabric +
    # storage, times the annual PUE, over 8,760 hours.
    sysm = catalog.system(d.system)
    b = d.it_power_breakdown_w
    typical_it = d.systems * sysm.power_typical_w * (1 + catalog.it_overhead().support_fraction_of_systems)
    typical_it += b["network"] + b["storage"]
    assert d.typical_facility_power_w == pytest.approx(typical_it * tech.pue, rel=1e-12)
    assert d.energy_mwh_per_year == pytest.approx(typical_it * tech.pue * 8760 / 1e6, rel=1e-12)


def test_cpu_and_management_halls_are_in_the_it_breakdown(catalog):
    d = design(accelerator="h100", gpus=8192)
    b = d.it_power_breakdown_w
    frac = catalog.it_overhead().support_fraction_of_systems
    assert b["cpu_and_management"] == pytest.approx(servers_w(d) * frac, rel=1e-12)
    assert sum(b.values()) == pytest.approx(d.it_power_w, rel=1e-12)


@pytest.mark.parametrize(("kw", "name"), [({"accelerator": "gb200", "power_w": "1 GW"}, "GB200 at 1 GW"),
                                          ({"accelerator": "h100", "gpus": 100_000}, "H100 at 100k")])
def test_it_over_servers_matches_epoch(kw, name):
    # Epoch AI (2025-12-18): all IT equipment draws 1.14x the servers (inter-server network,
    # management nodes, storage); ours adds fabric, storage and the CPU/management halls. Epoch's is
    # one stylized figure and the fabric's share moves with its topology, hence 7%.
    d = design(**kw)
    assert d.it_power_w / servers_w(d) == pytest.approx(EPOCH_IT_PER_SERVER, rel=0.07), name


def test_epoch_chain_for_h100_class():
    # Epoch's chain: facility = 1.53 x 1.14 x 1.4 = 2.44 x GPU TDP. The halls are built for the DGX
    # H100 nameplate (10.2 kW per 8 GPUs = 1.82 x TDP); the grid connection carries what the
    # servers draw while training, at most 8.48 kW (Latif et al. 2025): 1.51 x TDP, Epoch's 1.53
    # within 2%, and the whole chain then lands on Epoch's 2.44 x TDP.
    d = design(accelerator="h100", gpus=100_000)
    tdp = 700.0
    assert servers_w(d) / d.gpus / tdp == pytest.approx(10_200 / 8 / tdp, rel=1e-9)
    assert 8_480 / 8 / tdp == pytest.approx(EPOCH_SERVER_PER_GPU, rel=0.02)
    assert d.facility_power_w / d.gpus / tdp == pytest.approx(EPOCH_FACILITY_PER_TDP, rel=0.05)


def test_facility_is_peak_draw_times_design_pue(catalog):
    # Hand calculation: systems at their measured training peak x (1 + CPU-hall share) + fabric +
    # storage, times the design PUE; a system with no published measurement peaks at nameplate.
    frac = catalog.it_overhead().support_fraction_of_systems
    for kw in ({"accelerator": "h100", "gpus": 8192}, {"accelerator": "gb200", "gpus": 7200}):
        d = design(**kw)
        sysm = catalog.system(d.system)
        b = d.it_power_breakdown_w
        peak = d.systems * (sysm.power_peak_measured_w or sysm.power_max_w) * (1 + frac) + b["network"] + b["storage"]
        assert d.peak_it_power_w == pytest.approx(peak, rel=1e-12)
        assert d.facility_power_w == pytest.approx(d.peak_it_power_w * d.pue, rel=1e-12)
        assert d.typical_facility_power_w / d.annual_pue <= d.peak_it_power_w <= d.it_power_w
    assert design(accelerator="gb200", gpus=7200).peak_it_power_w == design(accelerator="gb200", gpus=7200).it_power_w


def test_a_measured_peak_outside_typical_and_nameplate_is_refused(tmp_path, cli):
    f = tmp_path / "peak.yaml"
    f.write_text("systems:\n  - id: dgx-h100\n    power_peak_measured_w: 11000\n", encoding="utf-8")
    r = cli("design", "--accelerator", "h100", "--gpus", "8", "--catalog", str(f))
    assert r.code == 2 and r.stderr.count("\n") == 1 and "power_peak_measured_w" in r.stderr


def test_epoch_chain_for_gb200():
    # GB200 NVL72: 132 kW / 72 GPUs = 1.53 x the 1,200 W TDP, Epoch's own server ratio; the whole
    # chain lands within 10% of Epoch's 2.44 x TDP = 2.93 kW per GPU.
    d = design(accelerator="gb200", power_w="1 GW")
    assert servers_w(d) / d.gpus / 1200 == pytest.approx(EPOCH_SERVER_PER_GPU, rel=0.01)
    assert d.facility_power_w / d.gpus / 1200 == pytest.approx(EPOCH_FACILITY_PER_TDP, rel=0.10)


@pytest.mark.xfail(strict=True, reason=(
    "2.69 kW per GB200 lands just under the Abilene band: the direct-liquid design PUE is an estimate "
    "(1.3) below Epoch's 1.4 and Abilene's ~1.46, which would give 2.9-3.0 kW but push c4 below 30 B$"))
def test_gb200_facility_power_per_gpu_like_abilene():
    # Abilene: 1.2 GW for ~400k GB200 (Crusoe press release 2025-03-18: 8 buildings, each up to
    # 50,000 GB200, 1.2 GW; FT via tomshardware 2025-05-24: ~400,000 GB200) = ~3.0 kW per GPU.
    d = design(accelerator="gb200", power_w="1 GW")
    assert 2700 <= d.facility_power_w / d.gpus <= 3200


# --- reference rows (clusters.csv) -------------------------------------------------------------


def test_c1_colossus_it_power():
    # c1: 100k H100, Ethernet, direct-liquid racks of 8 HGX: critical IT 135-165 MW (SemiAnalysis).
    d = design(accelerator="h100", gpus=100_000, fabric="ethernet", systems_per_rack=8)
    assert d.cooling == "direct_liquid"
    assert 135e6 <= d.it_power_w <= 165e6


def test_c2_colossus_200k_facility_power():
    # Colossus ran 200k H100/H200 on a 300 MW grid feed (band 260-345 MW): the connection carries
    # the servers' measured training peak, not their nameplate.
    d = design(accelerator="h100", gpus=200_000, fabric="ethernet", systems_per_rack=8)
    assert 260e6 <= d.facility_power_w <= 345e6


def test_c3_colossus_server_capex():
    d = design(accelerator="h100", gpus=100_000, fabric="ethernet")
    assert 3.3e9 <= servers_capex(d) <= 4.8e9


def servers_capex(d):
    return d.capex_breakdown_usd["accelerators"] + d.capex_breakdown_usd["rest_of_servers"]


def test_c4_gb200_capex_at_1_gw():
    # c4: Bernstein, $35B per GW (band 30-40 B$).
    d = design(accelerator="gb200", power_w="1 GW")
    assert 30e9 <= d.capex_usd <= 40e9


def test_c6_gb200_capex_per_watt_of_it(catalog):
    # c6: Epoch AI, $38B up front per GW of IT power (band 32-44 $/W).
    r = resolve(DesignRequest(accelerator="gb200", gpus=72), catalog)
    n = largest_within(lambda n: evaluate(r, n).it_power.total, 1e9)
    e = evaluate(r, float(n))
    assert e.it_power.total <= 1e9 < evaluate(r, n + 1.0).it_power.total
    assert 32 <= e.capex.total / e.it_power.total <= 44


def test_c13_facility_w_per_h100():
    d = design(accelerator="h100", gpus=100_000)
    assert 1500 <= d.facility_power_w / d.gpus <= 1950


def test_c14_h100_cost_per_gpu_hour_with_capital():
    # c14: an owner's full cost incl. capital at or below market rent: 1.70-2.95 $/GPU-hour.
    d = design(accelerator="h100", gpus=100_000)
    assert d.it_life_years == 5 and d.wacc_per_year > 0
    assert 1.70 <= d.tco_usd_per_gpu_hour <= 2.95


# --- on-site generation ------------------------------------------------------------------------


@pytest.mark.parametrize("sid", ["gas-turbine-onsite", "gas-ccgt-onsite", "gas-recip"])
def test_on_site_gas_price_is_fuel_plus_om_and_carbon_follows_heat_rate(catalog, sid):
    s = catalog.energy_source(sid)
    assert s.on_site
    fuel = s.heat_rate_btu_per_kwh * s.fuel_usd_per_mmbtu / 1000  # Btu/kWh x $/MMBtu = $/MWh / 1000
    assert s.price_usd_per_mwh == pytest.approx(fuel + s.om_usd_per_mwh, rel=0.02)
    if sid != "gas-recip":  # EPA: 53.06 kg CO2 per MMBtu of natural gas
        assert s.carbon_kg_per_mwh == pytest.approx(s.heat_rate_btu_per_kwh * 53.06 / 1000, rel=0.01)


def test_inconsistent_on_site_price_is_rejected(catalog):
    base = catalog.energy_source("gas-turbine-onsite").model_dump()
    with pytest.raises(ValueError, match="fuel"):
        EnergySource(**{**base, "price_usd_per_mwh": 20.0})


@pytest.mark.parametrize("sid", ["gas-turbine-onsite", "gas-ccgt-onsite"])
def test_self_generating_campus_spends_about_6_percent_on_power(catalog, sid):
    # Self-generating campuses spend ~6% of capex on power; the plant is capex, the grid substation is not.
    d = design(accelerator="gb200", power_w="1 GW", energy_source=sid)
    share = d.capex_breakdown_usd["power_infrastructure"] / d.capex_usd
    assert 0.04 <= share <= 0.08
    plant = catalog.energy_source(sid).infra_capex_usd_per_w
    assert d.capex_breakdown_usd["power_infrastructure"] == pytest.approx(d.facility_power_w * plant, rel=1e-12)
    grid = design(accelerator="gb200", power_w="1 GW")
    assert grid.capex_breakdown_usd["power_infrastructure"] / grid.capex_usd < 0.02


def test_on_site_energy_is_cheaper_per_mwh_but_dearer_in_capex(catalog):
    grid = design(accelerator="gb200", gpus=72_000)
    gas = design(accelerator="gb200", gpus=72_000, energy_source="gas-turbine-onsite")
    assert gas.opex_breakdown_usd_per_year["energy"] < grid.opex_breakdown_usd_per_year["energy"]
    assert gas.capex_usd > grid.capex_usd


# --- dense racks -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kw", "expected"), [(132, "direct_liquid"), (230, "direct_liquid_hd"),
                                               (600, "direct_liquid_800vdc")])
def test_dense_racks_get_the_cooling_that_removes_them(catalog, kw, expected):
    # Vera Rubin NVL72 ~190-230 kW; Rubin Ultra Kyber up to 600 kW with 800 V DC (GTC 2025).
    tech, why = choose_cooling(kw * 1e3, catalog.system("gb200-nvl72"), catalog.entries("cooling"))
    assert tech.id.value == expected and expected in why
    assert tech.confidence in {"high", "medium", "low"}


def test_rack_past_every_cooling_limit_is_a_one_line_error(catalog):
    from stargate.errors import InputError

    with pytest.raises(InputError) as e:
        choose_cooling(700e3, catalog.system("gb200-nvl72"), catalog.entries("cooling"))
    assert e.value.field == "systems_per_rack" and "600 kW" in str(e.value)


def test_denser_classes_cost_more_to_build_and_spend_less(catalog):
    order = ["direct_liquid", "direct_liquid_hd", "direct_liquid_800vdc"]
    techs = [catalog.cooling(c) for c in order]
    assert [t.rack_limit_w for t in techs] == sorted(t.rack_limit_w for t in techs)
    assert [t.build_cost_usd_per_w for t in techs] == sorted(t.build_cost_usd_per_w for t in techs)
    assert [t.design_pue for t in techs] == sorted((t.design_pue for t in techs), reverse=True)
    assert all(t.design_pue >= t.pue for t in catalog.entries("cooling"))
    assert techs[-1].dc_distribution_v == 800


def test_cli_accepts_the_new_cooling_ids(cli):
    r = cli("design", "--accelerator", "gb200", "--gpus", "72", "--cooling", "direct_liquid_800vdc", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    assert d["cooling"] == "direct_liquid_800vdc" and d["pue"] == d["design_pue"] > d["annual_pue"]
    bad = cli("design", "--accelerator", "gb200", "--gpus", "72", "--cooling", "immersion")
    assert bad.code == 2 and "--cooling" in bad.stderr and "Traceback" not in bad.stderr


# --- cost of capital ---------------------------------------------------------------------------


def test_capital_recovery_factor_hand_values():
    # 10% over 5 years: 0.1 x 1.61051 / 0.61051 = 0.26380; zero rate is straight line.
    assert capital_recovery_factor(0.10, 5) == pytest.approx(0.1 * 1.1**5 / (1.1**5 - 1), rel=1e-12)
    assert capital_recovery_factor(0.10, 5) == pytest.approx(0.26380, abs=1e-5)
    assert capital_recovery_factor(0.0, 14) == pytest.approx(1 / 14)
    # An annuity at w repays the principal: its present value over n years is 1.
    w, n = 0.08, 7
    pv = sum(capital_recovery_factor(w, n) / (1 + w) ** k for k in range(1, n + 1))
    assert pv == pytest.approx(1.0, rel=1e-12)


def test_zero_wacc_finance_is_straight_line(tmp_path):
    from stargate.catalog import Catalog

    f = tmp_path / "fin.yaml"
    f.write_text("finance:\n  - id: default\n    wacc_per_year: 0\n", encoding="utf-8")
    d = design_cluster(DesignRequest(accelerator="h100", gpus=1024), Catalog.load(f))
    assert d.tco_breakdown_usd_per_gpu_hour["capital_cost"] == 0
    assert sum(d.tco_breakdown_usd_per_gpu_hour.values()) == pytest.approx(d.tco_usd_per_gpu_hour, rel=1e-12)


def test_wacc_option_prices_capital(cli):
    # A hyperscaler's cheaper capital (~8%) against a neocloud's (~12%): only capital_cost moves.
    lo = cli("design", "--accelerator", "h100", "--gpus", "1024", "--wacc", "0.08", "--json").json()
    hi = cli("design", "--accelerator", "h100", "--gpus", "1024", "--wacc", "0.12", "--json").json()
    assert lo["wacc_per_year"] == 0.08 and hi["wacc_per_year"] == 0.12
    tl, th = lo["tco_breakdown_usd_per_gpu_hour"], hi["tco_breakdown_usd_per_gpu_hour"]
    assert th["capital_cost"] > tl["capital_cost"] > 0
    assert th["it_depreciation"] == tl["it_depreciation"] and th["energy"] == tl["energy"]
    zero = cli("design", "--accelerator", "h100", "--gpus", "1024", "--wacc", "0", "--json").json()
    assert zero["tco_breakdown_usd_per_gpu_hour"]["capital_cost"] == 0
    bad = cli("design", "--accelerator", "h100", "--gpus", "1024", "--wacc", "0.6")
    assert bad.code == 2 and bad.stderr.startswith("stargate: error: --wacc") and bad.stderr.count("\n") == 1
