"""The shipped catalog: completeness, provenance, lookups, and users' overlay files."""

import pytest

from stargate.catalog import Catalog
from stargate.catalog.schema import KINDS
from stargate.errors import InputError

REQUIRED_ACCELERATORS = [
    "v100-32g", "a100-40g", "a100-80g", "h100-sxm-80g", "h100-hbm2e-96g-500w", "h800-80g", "h200-141g",
    "b200-180g", "b300-288g", "gb200-186g", "gb300-288g", "mi300x-192g", "mi325x-256g", "mi355x-288g",
    "maia-100", "maia-200", "tpu-v4", "tpu-v5p", "tpu-v7-ironwood", "trainium2", "gaudi3",
]


@pytest.mark.parametrize("acc_id", REQUIRED_ACCELERATORS)
def test_required_accelerators_exist_with_provenance(catalog, acc_id):
    a = catalog.accelerator(acc_id)
    assert a.id == acc_id
    assert a.source and a.date and a.price_source and a.price_date
    assert a.peak_16bit_flops_per_s > 0 and a.hbm_bytes > 0 and a.tdp_w > 0


def test_validation_file_accelerators_resolve(catalog):
    # Every accelerator named in the validation runs must be in the catalog (shared/validation/README.md).
    for acc_id in ["v100-32g", "a100-40g", "a100-80g", "h100-sxm-80g", "h100-hbm2e-96g-500w", "h800-80g",
                   "h200-141g", "b200-180g", "b300-288g", "gb200-186g", "gb300-288g", "tpu-v3", "tpu-v4"]:
        assert catalog.accelerator(acc_id).id == acc_id


@pytest.mark.parametrize(
    ("alias", "canonical"), [("h100", "h100-sxm-80g"), ("gb200", "gb200-186g"), ("mi300x", "mi300x-192g"), ("H200", "h200-141g")]
)
def test_aliases_resolve(catalog, alias, canonical):
    assert catalog.accelerator(alias).id == canonical


def test_published_datasheet_figures(catalog):
    # NVIDIA H100 SXM datasheet: 989.4 TFLOP/s dense BF16, 3.35 TB/s HBM3, 700 W, 80 GB.
    h100 = catalog.accelerator("h100")
    assert h100.peak_flops_per_s["bf16"] == pytest.approx(989.4e12, rel=1e-3)
    assert h100.hbm_bw_bytes_per_s == pytest.approx(3.35e12, rel=1e-3)
    assert h100.tdp_w == 700 and h100.hbm_bytes == pytest.approx(80e9, rel=1e-3)
    # GB200 NVL72: 360 PF dense BF16 per 72-GPU rack... per the NVIDIA rack spec (180 PF dense = 2.5 PF/GPU).
    assert catalog.accelerator("gb200").peak_flops_per_s["bf16"] * 72 == pytest.approx(180e15, rel=0.01)
    # V100 has no bf16; its 16-bit peak is fp16 tensor (125 TFLOP/s, NVIDIA V100 datasheet).
    v100 = catalog.accelerator("v100")
    assert "bf16" not in v100.peak_flops_per_s
    assert v100.peak_16bit_flops_per_s == pytest.approx(125e12, rel=0.03)


def test_every_entry_has_source_and_date(catalog):
    for kind in KINDS:
        entries = catalog.entries(kind)
        assert entries, kind
        for e in entries:
            assert len(e.source) >= 3 and e.date[:2] in ("19", "20"), (kind, e.id)


def test_systems_hold_their_accelerators(catalog):
    for s in catalog.entries("systems"):
        acc = catalog.accelerator(s.accelerator)
        assert s.price_usd >= s.gpus_per_system * acc.price_usd
        assert s.power_max_w >= s.gpus_per_system * acc.tdp_w, s.id
    for a in catalog.entries("accelerators"):
        assert catalog.system(a.default_system).accelerator == a.id


def test_unknown_accelerator_suggests_nearest(catalog):
    with pytest.raises(InputError) as e:
        catalog.accelerator("h1000")
    assert e.value.field == "accelerator" and "did you mean" in str(e.value) and "h100" in str(e.value)


def test_overlay_updates_and_adds(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(
        "accelerators:\n"
        "  - id: h100-sxm-80g\n    price_usd: 20000\n"  # update one field of a shipped entry
        "energy_sources:\n"
        "  - {id: my-ppa, name: My PPA, kind: grid, price_usd_per_mwh: 40, carbon_kg_per_mwh: 10,\n"
        "     lead_time_years: 2, infra_capex_usd_per_w: 0.1, source: our contract, date: 2026-01}\n"
    )
    cat = Catalog.load(f)
    assert cat.accelerator("h100").price_usd == 20000
    assert cat.accelerator("h100").tdp_w == 700  # untouched fields kept
    assert cat.energy_source("my-ppa").price_usd_per_mwh == 40
    assert Catalog.load().accelerator("h100").price_usd != 20000  # shipped catalog unchanged


def test_overlay_accepts_quantity_strings(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("accelerators:\n  - id: h100-sxm-80g\n    tdp_w: 0.65 kW\n    hbm_bytes: 80 GiB\n")
    a = Catalog.load(f).accelerator("h100")
    assert a.tdp_w == pytest.approx(650.0) and a.hbm_bytes == 80 * 2**30


@pytest.mark.parametrize(
    ("text", "field_fragment"),
    [
        ("accelerators:\n  - id: h100-sxm-80g\n    tdp_w: 5 GB\n", "tdp_w"),
        ("accelerators:\n  - id: new-chip\n    name: x\n", "new-chip"),
        ("gizmos: []\n", "section"),
        ("accelerators: [\n", "invalid YAML"),
        ("systems:\n  - id: dgx-h100\n    price_usd: 1000\n", "price_usd"),
        ("accelerators:\n  - id: h100-nvl-94g\n    same_die_as: h100-nvl-94g\n", "same_die_as"),
        ("accelerators:\n  - id: h100-nvl-94g\n    same_die_as: gh100-die\n", "same_die_as"),
    ],
)
def test_malformed_overlay_is_one_input_error(tmp_path, text, field_fragment):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(InputError) as e:
        Catalog.load(f)
    assert field_fragment in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("value", ["nan", "inf", "'9**9**9 W'"])
def test_a_non_finite_power_in_an_overlay_says_what_is_allowed_once(tmp_path, value):
    """The field's own validator words the error; the message names the field once and does not repeat itself."""
    f = tmp_path / "o.yaml"
    f.write_text(f"systems:\n  - id: dgx-h100\n    power_peak_measured_w: {value}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        Catalog.load(f)
    text = str(exc.value)
    assert text.count("power_peak_measured_w") == 1 and text.count("is not allowed") == 1, text
    assert "expected a finite" in text
