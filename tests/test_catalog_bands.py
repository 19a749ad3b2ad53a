"""Every catalog number carries its uncertainty: a grade on every entry, sourced bands where sources
disagree, per-field classes, and the class widths documented in docs/uncertainty.md."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from stargate.catalog import Catalog
from stargate.catalog.bands import entry_bands, numeric_fields
from stargate.catalog.schema import KINDS
from stargate.uncertainty.bands import CLASSES, catalog_band, class_of

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src/stargate/catalog/data"


def _every_entry(catalog):
    return [(kind, e) for kind in KINDS for e in catalog.entries(kind)]


def _raw_sections() -> dict[str, list[dict]]:
    """The shipped YAML as written, read without the catalog's loader."""
    raw: dict[str, list[dict]] = {}
    for path in sorted(DATA.glob("*.yaml")):
        for section, entries in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            raw.setdefault(section, []).extend(entries)
    return raw


# -- the shipped data ------------------------------------------------------------------------------------------------


def test_every_entry_is_graded(catalog):
    ungraded = [f"{kind}/{e.id}" for kind, e in _every_entry(catalog) if e.confidence not in ("high", "medium", "low")]
    assert ungraded == []


def test_every_sourced_band_contains_its_number_and_names_its_sources(catalog):
    seen = 0
    for kind, e in _every_entry(catalog):
        numbers = numeric_fields(e)
        for field, band in e.bands.items():
            seen += 1
            where = f"{kind}/{e.id}.{field}"
            assert field in numbers, where
            assert math.isfinite(band.low) and math.isfinite(band.high), where
            assert band.low <= numbers[field] <= band.high, where
            assert band.low < band.high, f"{where}: a band records a disagreement"
            assert len(band.source) >= 20 and re.match(r"^\d{4}", band.date), where
    assert seen >= 25


def test_the_numbers_that_dominate_capex_power_and_reliability_have_sourced_bands(catalog):
    wanted = {
        "accelerators": {"h100-sxm-80g": "price_usd", "b200-180g": "price_usd", "gb200-186g": "price_usd",
                         "mi300x-192g": "price_usd"},
        "switches": {"quantum-2": "price_usd", "spectrum-4": "price_usd"},
        "media": {"dr8-800g-twin": "price_usd"},
        "cooling": {"air": "build_cost_usd_per_w", "direct_liquid": "pue"},
        "energy_sources": {"grid-us": "price_usd_per_mwh"},
        "failure_rates": {"gpu": "interruptions_per_gpu_hour"},
    }
    for kind, fields in wanted.items():
        for eid, field in fields.items():
            assert field in catalog.get(kind, eid).bands, f"{kind}/{eid}.{field}"


def test_bands_as_written_in_the_yaml_are_what_the_catalog_holds(catalog):
    """The YAML's own lows and highs, read without the loader, reach catalog_band unchanged."""
    raw = _raw_sections()
    checked = 0
    for section, entries in raw.items():
        for entry in entries:
            for field, band in (entry.get("bands") or {}).items():
                e = catalog.get(section, entry["id"])
                b = catalog_band(e, section, field, value=numeric_fields(e)[field])
                assert (b.low, b.high) == (float(band["low"]), float(band["high"])), f"{section}/{entry['id']}.{field}"
                assert b.basis == f"sourced: {' '.join(str(band['source']).split())}"
                checked += 1
    assert checked >= 25


def test_h100_price_band_is_the_street_estimates(catalog):
    b = catalog_band(catalog.accelerator("h100"), "accelerators", "price_usd")
    assert (b.low, b.point, b.high) == (25_000.0, 27_500.0, 36_000.0)
    assert "awesomeagents.ai" in b.basis and "aiinframap.com" in b.basis


def test_in_house_chip_prices_derived_by_a_round_factor_are_assumptions(catalog):
    """The accelerators' own price_source names rule R2 (0.5 x an NVIDIA price, a round assumption)."""
    r2 = [a for a in catalog.entries("accelerators") if "rule R2" in a.price_source]
    assert len(r2) >= 8
    for a in r2:
        assert class_of(a, "price_usd") == "assumption", a.id
        b = catalog_band(a, "accelerators", "price_usd")
        assert b.high / b.point == pytest.approx(1.5) and b.point / b.low == pytest.approx(1.5)


def test_a_number_in_a_mapping_takes_its_mappings_class(catalog):
    """h100-hbm2e-96g-500w lists peak_flops_per_s as estimated: every precision's peak is an estimate."""
    acc = catalog.accelerator("h100-hbm2e-96g-500w")
    assert "peak_flops_per_s" in acc.estimated_fields
    assert class_of(acc, "peak_flops_per_s.bf16") == "estimate"
    assert class_of(catalog.accelerator("h100"), "peak_flops_per_s.bf16") == "datasheet"


def test_a_typical_power_derived_by_rule_is_an_estimate_on_a_datasheet_system(catalog):
    dgx = catalog.system("dgx-b200")
    assert dgx.confidence == "high" and "rule W2" in dgx.source
    assert class_of(dgx, "power_typical_w") == "estimate"
    assert class_of(dgx, "power_max_w") == "datasheet"


def test_entries_with_bands_stay_usable_as_cache_keys(catalog):
    media = catalog.get("media", "dr8-800g-twin")
    assert media.bands and hash(media) == hash(media.model_copy())


# -- bad bands are bad input: one line, exit 2 -----------------------------------------------------------------------


def _overlay(tmp_path, text: str) -> str:
    f = tmp_path / "over.yaml"
    f.write_text(text, encoding="utf-8")
    return str(f)


def _band(low: str, high: str, field: str = "price_usd", extra: str = "") -> str:
    return (f"accelerators:\n  - id: h100-sxm-80g\n    bands:\n      {field}:\n        low: {low}\n        high: {high}\n"
            f"        source: my two quotes\n        date: '2026'\n{extra}")


@pytest.mark.parametrize(("text", "field", "value", "allowed"), [
    (_band("30000", "40000"), "bands.price_usd", "'30000..40000'", "a low and a high around the entry's price_usd (27,500)"),
    (_band("20000", "40000", "price_dollars"), "bands.price_dollars", "'price_dollars'", "a numeric field of the entry: "),
    (_band("20000", "40000", "peak_flops_per_s.fp4"), "bands.peak_flops_per_s.fp4", "'peak_flops_per_s.fp4'",
     "a numeric field of the entry: "),
    (_band("20000", ".inf"), "bands.price_usd.high", "inf", "a finite number"),
    (_band(".nan", "40000"), "bands.price_usd.low", "nan", "a finite number"),
    (_band("40000", "20000"), "bands.price_usd.high", "20000.0", "a high no lower than the low (40000)"),
    ("accelerators:\n  - id: h100-sxm-80g\n    field_confidence: {tdp_w: sure}\n", "field_confidence.tdp_w", "'sure'",
     "'datasheet', 'vendor', 'estimate' or 'assumption'"),
    ("accelerators:\n  - id: h100-sxm-80g\n    field_confidence: {tdp: vendor}\n", "field_confidence.tdp", "'tdp'",
     "a numeric field of the entry: "),
])
def test_a_bad_band_in_an_overlay_is_one_line_naming_entry_field_and_value(cli, tmp_path, text, field, value, allowed):
    r = cli("catalog", "show", "h100", "--catalog", _overlay(tmp_path, text))
    assert (r.code, r.stdout) == (2, "")
    head = f"stargate: error: catalog over.yaml: accelerators[id=h100-sxm-80g].{field}: {value} is not allowed; expected "
    assert r.stderr.startswith(head), r.stderr
    assert allowed in r.stderr and r.stderr.count("\n") == 1


def test_a_band_without_its_source_is_refused(cli, tmp_path):
    text = "accelerators:\n  - id: h100-sxm-80g\n    bands:\n      price_usd: {low: 20000, high: 40000, date: '2026'}\n"
    r = cli("catalog", "show", "h100", "--catalog", _overlay(tmp_path, text))
    assert r.code == 2 and "bands.price_usd.source" in r.stderr and r.stderr.count("\n") == 1


def test_an_overlay_replacing_a_number_drops_the_shipped_band_of_that_number(catalog):
    cheaper = catalog.overlaid({"accelerators": [{"id": "h100-sxm-80g", "price_usd": 20000}]}, "prices")
    b = catalog_band(cheaper.accelerator("h100"), "accelerators", "price_usd")
    assert b.basis == "estimate" and (b.low, b.high) == pytest.approx((20000 / 1.25, 20000 * 1.25))
    assert "tdp_w" not in catalog.accelerator("h100").bands  # untouched numbers keep what they had
    own = {"low": 18000, "high": 24000, "source": "two quotes of mine", "date": "2026-11"}
    mine = catalog.overlaid({"accelerators": [{"id": "h100-sxm-80g", "price_usd": 20000, "bands": {"price_usd": own}}]}, "q")
    b = catalog_band(mine.accelerator("h100"), "accelerators", "price_usd")
    assert (b.low, b.high, b.basis) == (18000.0, 24000.0, "sourced: two quotes of mine")


def test_an_overlay_keeps_the_shipped_band_of_a_number_it_does_not_replace(catalog):
    hotter = catalog.overlaid({"accelerators": [{"id": "h100-sxm-80g", "tdp_w": 750}]}, "power")
    assert hotter.accelerator("h100").bands["price_usd"].low == 25000.0


# -- catalog show ----------------------------------------------------------------------------------------------------


def test_catalog_show_json_gives_every_float_its_band_and_basis(cli, catalog):
    r = cli("catalog", "show", "h100", "--json")
    assert r.code == 0
    bands = r.json()["bands"]
    assert bands["price_usd"] == {"point": 27500.0, "p10": 25000.0, "p90": 36000.0, "basis": "sourced",
                                  "source": catalog.accelerator("h100").bands["price_usd"].source, "date": "2026"}
    w = CLASSES["datasheet"]
    assert bands["tdp_w"] == {"point": 700.0, "p10": pytest.approx(700 / (1 + w)), "p90": pytest.approx(700 * (1 + w)),
                              "basis": "datasheet"}
    assert bands["peak_flops_per_s.bf16"]["point"] == 989.4e12
    assert "year" not in bands and "scale_up_domain" not in bands  # counts and years are exact
    floats = {k for k, v in numeric_fields(catalog.accelerator("h100")).items()
              if k.split(".")[0] not in ("year", "scale_up_domain")}
    assert set(bands) == floats


def test_catalog_show_prints_each_band_beside_its_number(cli):
    r = cli("catalog", "show", "quantum-2")
    assert r.code == 0
    text = " ".join(r.stdout.replace("│", " ").split())
    assert "43000 P10–P90 36,000–50,000 (sourced: H100 Freakonomics spreadsheet" in text
    assert "750 P10–P90 652.2–862.5 (vendor)" in text  # power_w of a medium entry: 750 / 1.15 to 750 x 1.15


def test_entry_bands_agree_with_catalog_band_for_every_entry(catalog):
    for kind, e in _every_entry(catalog):
        for name, row in entry_bands(e, kind).items():
            b = catalog_band(e, kind, name, value=numeric_fields(e)[name])
            assert (row["p10"], row["point"], row["p90"]) == (b.low, b.point, b.high), f"{kind}/{e.id}.{name}"
            assert row["p10"] <= row["point"] <= row["p90"]


# -- the documented classes ------------------------------------------------------------------------------------------


def test_the_class_table_in_the_docs_is_classes():
    page = (ROOT / "docs" / "uncertainty.md").read_text(encoding="utf-8")
    section = page.split("## Confidence classes", 1)[1]
    rows = re.findall(r"^\| `(\w+)` \| (\d+(?:\.\d+)?)% \| ([\d.]+)–([\d.]+) \|", section, flags=re.MULTILINE)
    assert {name: float(pct) / 100 for name, pct, _, _ in rows} == CLASSES
    for name, _, low, high in rows:
        w = CLASSES[name]
        assert float(low) == pytest.approx(100 / (1 + w), abs=0.05) and float(high) == pytest.approx(100 * (1 + w))


def test_the_spread_table_in_the_docs_is_its_own_arithmetic():
    """Each comparison's spread is sqrt(high / low) - 1 of the two ends it lists."""
    page = (ROOT / "docs" / "uncertainty.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| [^|]+ \| [^|]+ \| ([^|]+) \| ±([\d.]+)% \| (\w+) \|$", page, flags=re.MULTILINE)
    assert len(rows) >= 20
    for ends, spread, cls in rows:
        low, high = (float(re.sub(r"[^\d.]", "", x.replace("k", "").replace("B", ""))) for x in ends.split(" – "))
        assert (math.sqrt(high / low) - 1) * 100 == pytest.approx(float(spread), abs=0.06), ends
        assert cls in CLASSES


# -- physical bounds -------------------------------------------------------------------------------------------------


def test_no_band_passes_the_bounds_its_field_allows(catalog):
    """A PUE is at least 1 and an efficiency at most 1, whatever the class: the schema's bounds cap the band."""
    capped = 0
    for kind, e in _every_entry(catalog):
        for name in entry_bands(e, kind):
            b = catalog_band(e, kind, name, value=numeric_fields(e)[name])
            info = type(e).model_fields.get(name)
            for m in getattr(info, "metadata", ()):
                if getattr(m, "ge", None) is not None:
                    assert b.low >= m.ge, f"{kind}/{e.id}.{name}"
                if getattr(m, "le", None) is not None:
                    assert b.high <= m.le, f"{kind}/{e.id}.{name}"
                    capped += b.high == m.le
    assert capped >= 3  # the Ethernet-class efficiencies of 0.98 would pass 1 at +15%
    for c in catalog.entries("cooling"):  # an optional field's bounds too: the design PUE
        bands = entry_bands(c, "cooling")
        assert bands["pue"]["p10"] >= 1.0 and bands["design_pue"]["p10"] >= 1.0, c.id


def test_draws_stay_within_the_bounds():
    pytest.importorskip("scipy")  # the uncertainty extra
    from stargate.uncertainty.sampling import values

    cat = Catalog.load()
    eff = catalog_band(cat.get("fabrics", "ethernet"), "fabrics", "link_efficiency")
    pue = catalog_band(cat.cooling("direct_liquid_800vdc"), "cooling", "pue")
    w = CLASSES[class_of(cat.cooling("direct_liquid_800vdc"), "pue")]
    assert pue.point / (1 + w) < 1.0  # the class on the whole PUE would pass its floor; on the overhead it does not
    assert pue.low == pytest.approx(1 + (pue.point - 1) / (1 + w)) and pue.high == pytest.approx(1 + (pue.point - 1) * (1 + w))
    u = np.linspace(0.0, 1.0, 2001)[:, None].repeat(2, axis=1)
    v = values([eff, pue], u)
    assert v[eff.key].max() == 1.0 and v[eff.key].min() < 0.98
    assert 1.0 < v[pue.key].min() < pue.low and v[pue.key].max() > pue.high
    zero = values([eff.widened(0.0), pue.widened(0.0)], u)
    assert set(zero[eff.key].tolist()) == {0.98} and set(zero[pue.key].tolist()) == {pue.point}
