"""Hardware of 2026-2028 (issue 12, item 5): the new parts load, design and train; a scenario phase
cannot use a part before its year; Trainium2 is powered as its own hosts, not as an H100 server.

Expectations come from the parts' published rack or pod totals (vendor figures as cited in the
catalog's ``source`` fields), not from the catalog's own per-chip numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stargate.catalog import Catalog
from stargate.cluster.design import design_cluster
from stargate.errors import InputError
from stargate.plan import builtin_scenario
from stargate.scenario import DesignRequest, Scenario, check_availability

NEW = ("rubin-288g", "rubin-ultra-1tb", "mi455x-432g", "trainium3", "trainium2-ultra", "tpu-v7-ironwood")

# Racks above the 140 kW liquid class (Vera Rubin ~230 kW, Helios ~235 kW, Kyber 600 kW) take the
# denser classes facility.yaml has for them: direct_liquid_hd (250 kW) and direct_liquid_800vdc (600 kW).
DENSE_CLASS = {"rubin-288g": "direct_liquid_hd", "mi455x-432g": "direct_liquid_hd", "rubin-ultra-1tb": "direct_liquid_800vdc"}


@pytest.mark.parametrize("acc_id", NEW)
def test_new_part_is_sourced_dated_and_graded(catalog, acc_id):
    acc = catalog.accelerator(acc_id)
    system = catalog.system(acc.default_system)
    assert acc.source and acc.price_source and acc.confidence in ("high", "medium", "low")
    assert system.accelerator == acc.id and system.confidence in ("high", "medium", "low")
    assert 2025 <= acc.year <= 2027 and (system.year or acc.year) >= acc.year


@pytest.mark.parametrize(
    ("acc_id", "chips", "field", "published", "what"),
    [
        # NVIDIA GTC 2025: Vera Rubin NVL144 = 1.2 EF FP8 training over 72 packages; CES 2026: 20.7 TB
        # HBM4 and 260 TB/s NVLink 6 per rack.
        ("rubin-288g", 72, "fp8", 1.2e18, "rack FP8"),
        ("rubin-288g", 72, "hbm_bytes", 20.7e12, "rack HBM"),
        ("rubin-288g", 72, "scale_up_bw_bytes_per_s_bidir", 260e12, "rack NVLink"),
        # GTC 2025: Rubin Ultra NVL576 = 5 EF FP8 training over 144 packages; 4,608 TB/s HBM per rack.
        ("rubin-ultra-1tb", 144, "fp8", 5.0e18, "rack FP8"),
        ("rubin-ultra-1tb", 144, "hbm_bw_bytes_per_s", 4608e12, "rack HBM bandwidth"),
        # AMD Helios: 2.9 EF FP4, 1.4 EF FP8, 31 TB HBM4, 1.4 PB/s, 260 TB/s scale-up over 72 MI455X.
        ("mi455x-432g", 72, "fp4", 2.9e18, "rack FP4"),
        ("mi455x-432g", 72, "fp8", 1.4e18, "rack FP8"),
        ("mi455x-432g", 72, "hbm_bytes", 31e12, "rack HBM"),
        ("mi455x-432g", 72, "hbm_bw_bytes_per_s", 1.4e15, "rack HBM bandwidth"),
        # AWS trn3-arch: Gen2 UltraServer = 144 chips, 362 PF dense MXFP8, 706 TB/s HBM, EFA 28.8 Tbit/s.
        ("trainium3", 144, "fp8", 362e15, "UltraServer FP8"),
        ("trainium3", 144, "hbm_bw_bytes_per_s", 706e12, "UltraServer HBM bandwidth"),
        ("trainium3", 144, "scale_out_bw_bits_per_s", 28.8e12, "UltraServer EFA"),
        # Google: a 9,216-chip Ironwood pod = 42.5 EF FP8.
        ("tpu-v7-ironwood", 9216, "fp8", 42.5e18, "pod FP8"),
        # AWS: a trn2.48xlarge = 20.8 PF FP8 and 3.2 Tbit/s EFAv3; an UltraServer = 4 of them.
        ("trainium2", 16, "fp8", 20.8e15, "instance FP8"),
        ("trainium2", 16, "scale_out_bw_bits_per_s", 3.2e12, "instance EFAv3"),
        ("trainium2-ultra", 64, "scale_out_bw_bits_per_s", 12.8e12, "UltraServer EFAv3"),
    ],
)
def test_per_chip_figures_add_up_to_the_published_totals(catalog, acc_id, chips, field, published, what):
    acc = catalog.accelerator(acc_id)
    per_chip = acc.peak_flops_per_s[field] if field in ("fp4", "fp8", "bf16") else getattr(acc, field)
    assert chips * per_chip == pytest.approx(published, rel=0.03), what


def test_kyber_rack_is_the_announced_600_kw(catalog):
    """Jensen Huang, GTC 2025 Q&A (tomshardware.com 2025-03-20): up to 600 kW per Rubin Ultra rack."""
    rack = catalog.system("rubin-ultra-nvl576")
    assert rack.power_max_w == 600e3 and rack.gpus_per_system * 4 == 576


@pytest.mark.parametrize("acc_id", NEW + ("trainium2",))
def test_new_part_designs_by_gpu_count(catalog, acc_id):
    cat = catalog
    acc = cat.accelerator(acc_id)
    system = cat.system(acc.default_system)
    d = design_cluster(DesignRequest(accelerator=acc_id, gpus=1000), cat)
    systems = -(-1000 // system.gpus_per_system)
    assert d.gpus == systems * system.gpus_per_system
    # Nameplate IT power covers at least the systems themselves; the facility adds cooling and losses.
    assert d.it_power_w >= systems * system.power_max_w > 0
    assert d.facility_power_w > d.it_power_w and d.capex_usd >= systems * system.price_usd
    # The cooling is the cheapest class whose rack limit holds the rack: the dense parts need the
    # 250 kW or 600 kW liquid classes, and no class below the rack's power is chosen.
    tech = cat.cooling(d.cooling)
    assert tech.rack_limit_w >= d.rack_power_w
    if acc_id in DENSE_CLASS:
        assert d.cooling == DENSE_CLASS[acc_id], (acc_id, d.cooling, d.rack_power_w)


@pytest.mark.parametrize("acc", ["rubin", "rubin-ultra", "mi455x", "trn3", "trn2u", "ironwood"])
def test_new_part_trains_a_small_preset_and_says_what_it_borrows(cli, acc):
    r = cli("train", "--model", "llama3.1-8b", "--accelerator", acc, "--gpus", "144", "--seq-len", "8192",
            "--global-batch", "576", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    assert d["fits"] and 0 < d["mfu"] < 1 and d["tokens_per_s_per_gpu"] > 0
    assert "has no measured kernel tables: borrows" in d["calibration"]


def test_faster_part_trains_faster(cli):
    """Rubin's datasheet is ~3.7x B200's in 16-bit compute and 2.75x in HBM bandwidth: the borrowed tables,
    scaled by those ratios, must make it faster than the B200 it borrows from on the same job."""
    def tps(acc: str) -> float:
        return cli("train", "--model", "llama3.1-8b", "--accelerator", acc, "--gpus", "144", "--seq-len", "8192",
                   "--global-batch", "576", "--json").json()["tokens_per_s_per_gpu"]
    assert tps("rubin") > 1.5 * tps("b200")


def _scenario(tmp_path: Path, year: int, accelerator: str, system: str | None = None) -> Path:
    extra = f"\n    system: {system}" if system else ""
    path = tmp_path / "s.yaml"
    path.write_text(f"name: stargate\nphases:\n  - name: \"Phase 5\"\n    year: {year}\n"
                    f"    accelerator: {accelerator}\n    gpus: 1440{extra}\n")
    return path


def test_plan_refuses_a_part_before_its_year(cli, tmp_path):
    r = cli("plan", str(_scenario(tmp_path, 2026, "rubin-ultra")))
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line
    assert "scenario stargate: phase 'Phase 5'.accelerator: 'rubin-ultra' is not allowed" in line
    assert "available by 2026" in line and "rubin-ultra-1tb ships from 2027" in line


def test_report_refuses_it_too(cli, tmp_path):
    r = cli("report", str(_scenario(tmp_path, 2025, "mi450")), "-o", str(tmp_path / "r.html"))
    assert r.code == 2 and "mi455x-432g ships from 2026" in r.stderr and not (tmp_path / "r.html").exists()


def test_availability_by_configuration(catalog):
    """Trainium2 shipped in 2024, its 64-chip UltraServer configuration (trainium2-ultra) from 2025."""
    sc = Scenario(name="t", phases=[{"name": "P", "year": 2024, "accelerator": "trn2u", "gpus": 64}])
    with pytest.raises(InputError) as e:
        check_availability(sc, catalog)
    assert e.value.field == "scenario t: phase 'P'.accelerator" and "2025" in e.value.allowed
    ok = Scenario(name="t", phases=[{"name": "P", "year": 2027, "accelerator": "rubin-ultra", "gpus": 144}])
    assert check_availability(ok, catalog) is None


def test_system_later_than_its_chip_is_named(tmp_path):
    overlay = tmp_path / "late.yaml"
    overlay.write_text("systems:\n  - id: gb200-nvl72\n    year: 2026\n")
    cat = Catalog.load(overlay)
    sc = Scenario(name="t", phases=[{"name": "P", "year": 2025, "accelerator": "gb200", "gpus": 72}])
    with pytest.raises(InputError) as e:
        check_availability(sc, cat)
    assert e.value.field.endswith(".system") and "gb200-nvl72 ships from 2026" in e.value.allowed


def test_a_system_cannot_ship_before_its_chip(cli, tmp_path):
    overlay = tmp_path / "early.yaml"
    overlay.write_text("systems:\n  - id: vera-rubin-nvl144\n    year: 2024\n")
    r = cli("catalog", "list", "systems", "--catalog", str(overlay))
    assert r.code == 2 and "systems[id=vera-rubin-nvl144].year: 2024" in r.stderr
    assert "rubin-288g ships from 2026" in r.stderr


def test_unknown_part_in_a_phase_is_named_with_its_phase(catalog):
    sc = Scenario(name="t", phases=[{"name": "P", "year": 2026, "accelerator": "h1000", "gpus": 8}])
    with pytest.raises(InputError) as e:
        check_availability(sc, catalog)
    assert e.value.field == "scenario t: phase 'P'.accelerator" and e.value.value == "h1000"


@pytest.mark.parametrize("name", ["stargate", "stargate-2025", "stargate-amd-ethernet", "stargate-multisite"])
def test_shipped_scenarios_use_parts_that_exist_by_their_years(catalog, name):
    check_availability(builtin_scenario(name), catalog)


def test_design_without_a_year_still_takes_any_part(catalog):
    d = design_cluster(DesignRequest(accelerator="rubin-ultra", gpus=144), catalog)
    assert d.gpus == 144


def test_catalog_list_shows_years(cli):
    r = cli("catalog", "list", "accelerators")
    row = next(line for line in r.stdout.splitlines() if "rubin-ultra-1tb" in line)
    assert "2027" in row
    systems = cli("catalog", "list", "systems", "--json").json()["systems"]
    assert all(isinstance(s["year"], int) for s in systems)
    assert next(s for s in systems if s["id"] == "dgx-h100")["year"] == 2023  # from its accelerator


# ---- Trainium2 as built: 16-chip hosts with a CPU head tray, not an 8-GPU HGX server.

def test_trn2_host_power_per_chip_is_within_its_sources(catalog):
    """Per chip, the host draws more than the chip (~500 W, SemiAnalysis 2024-12) and less than the whole
    facility spends per chip (The Register 2025-07-04: 256,000 Trainium2 need 250-300 MW, i.e. 977-1,172 W
    per chip all-in)."""
    host = catalog.system("trn2-instance")
    per_chip = host.power_max_w / host.gpus_per_system
    assert catalog.accelerator("trainium2").tdp_w < per_chip < 250e6 / 256_000
    # An H100 server spends ~1.3 kW per GPU (DGX H100: 10.2 kW / 8); a Trn2 host far less per chip.
    assert per_chip < 0.6 * catalog.system("dgx-h100").power_max_w / 8


def test_trn2_cluster_power_matches_the_reported_figure():
    """The Register (2025-07-04): a 256,000-chip Trainium2 cluster needs 250-300 MW."""
    d = design_cluster(DesignRequest(accelerator="trn2", gpus=256_000, fabric="ethernet"))
    assert 250e6 <= d.facility_power_w <= 300e6


def test_trn2_scale_out_is_efa_per_chip(catalog):
    """EFAv3 3.2 Tbit/s per 16-chip instance (AWS): 200 Gbit/s per chip, on the Ethernet family."""
    d = design_cluster(DesignRequest(accelerator="trn2", gpus=1024, fabric="ethernet"), catalog)
    assert catalog.accelerator("trn2").scale_out_bw_bits_per_s == 200e9 and d.gpus == 1024


def test_design_year_refuses_a_part_not_yet_shipping_and_sets_the_network_year(cli):
    bad = cli("design", "--accelerator", "rubin-ultra", "--gpus", "1440", "--year", "2026")
    assert bad.code == 2 and bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("stargate: error: --accelerator: 'rubin-ultra'") and "ships from 2027" in bad.stderr
    ok = cli("design", "--accelerator", "rubin-ultra", "--gpus", "1440", "--year", "2027", "--json")
    assert ok.code == 0 and ok.json()["gpus"] == 1440
    # The build year is also the fabric's: 2025 has no 102.4T switch on sale, 2026 does.
    early = cli("design", "--accelerator", "gb200", "--gpus", "121752", "--fabric", "ethernet", "--year", "2025", "--json").json()
    late = cli("design", "--accelerator", "gb200", "--gpus", "121752", "--fabric", "ethernet", "--year", "2026", "--json").json()
    assert early["network"]["switch"] != "tomahawk-6" and late["network"]["usd_per_gpu"] <= early["network"]["usd_per_gpu"]
    assert cli("design", "--accelerator", "h100", "--gpus", "8", "--year", "1e9").code == 2
