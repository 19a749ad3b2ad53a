"""A system's price is its chips plus the rest of it, as data: a new chip price re-prices the systems."""

import pytest

from stargate.catalog import Catalog

# Every shipped system's whole price as the catalog gave it before the split into chips + rest
# (systems.yaml, price_usd): the split must leave each one exactly as it was.
WHOLE_PRICE_USD = {
    "dgx-1-v100": 145000, "dgx-a100-40g": 187000, "dgx-a100-80g": 187000, "dgx-h100": 297500,
    "grand-teton-h100-96g": 297500, "hgx-h800": 297500, "hgx-h200": 357500, "dgx-b200": 499000,
    "dgx-b300": 539000, "gb200-nvl72": 2856000, "gb300-nvl72": 3784000, "mi300x-platform": 177500,
    "mi325x-platform": 221500, "mi355x-platform": 261500, "maia-100-rack": 600000, "maia-200-tray": 100000,
    "tpu-v3-host": 46000, "tpu-v4-host": 54800, "tpu-v5p-host": 75000, "tpu-v7-host": 90000,
    "trn2-instance": 297500, "trn2u-host": 297500, "trn3-gen2-server": 100000, "vera-rubin-nvl144": 7515000,
    "rubin-ultra-nvl576": 30624000, "helios-mi455x": 5784000, "gaudi3-hls3": 175000,
    # the servers of the serving parts, added after the split: chips at their estimate + the stated rest
    "pcie-server-h100-nvl": 297500, "pcie-server-h100-pcie": 277500, "pcie-server-h200-nvl": 357500,
    "mgx-gh200-144g": 55000, "mgx-gh200-96g": 47500, "pcie-server-l40s": 117500,
    "pcie-server-rtx-pro-6000": 157500, "mi350x-platform": 237500, "pcie-server-mi350p": 157500,
}


def _overlay(tmp_path, text: str) -> Catalog:
    f = tmp_path / "overlay.yaml"
    f.write_text(text)
    return Catalog.load(f)


def test_every_shipped_system_keeps_its_price_exactly():
    cat = Catalog.load()
    systems = {s.id: s for s in cat.entries("systems")}
    assert set(systems) == set(WHOLE_PRICE_USD)
    for sid, price in WHOLE_PRICE_USD.items():
        s = systems[sid]
        chips = s.gpus_per_system * cat.accelerator(s.accelerator).price_usd
        assert s.price_usd == price, sid  # exactly, not approximately
        assert s.rest_of_system_usd == price - chips >= 0, sid


def test_a_chip_price_in_an_overlay_reprices_its_systems(tmp_path):
    cat = _overlay(tmp_path, "accelerators:\n  - id: h100-sxm-80g\n    price_usd: 20000\n")
    dgx = cat.system("dgx-h100")
    assert dgx.price_usd == 8 * 20_000 + 77_500  # $237,500 (was $297,500 at $27,500 a chip)
    assert dgx.rest_of_system_usd == 77_500
    assert cat.system("dgx-b200").price_usd == WHOLE_PRICE_USD["dgx-b200"]  # other chips' systems unchanged


def test_the_design_pays_the_overlay_chip_price(tmp_path, cli):
    f = tmp_path / "o.yaml"
    f.write_text("accelerators:\n  - id: h100-sxm-80g\n    price_usd: 20000\n")
    base = cli("design", "--accelerator", "h100", "--gpus", "1024", "--json").json()["capex_breakdown_usd"]
    cheap = cli("design", "--accelerator", "h100", "--gpus", "1024", "--catalog", str(f), "--json").json()
    parts = cheap["capex_breakdown_usd"]
    assert parts["accelerators"] == 1024 * 20_000
    assert parts["rest_of_servers"] == base["rest_of_servers"] == 128 * 77_500
    assert base["accelerators"] - parts["accelerators"] == 1024 * 7_500


def test_an_overlay_on_the_rest_reprices_the_system(tmp_path):
    cat = _overlay(tmp_path, "systems:\n  - id: dgx-h100\n    rest_of_system_usd: 100000\n")
    assert cat.system("dgx-h100").price_usd == 8 * 27_500 + 100_000


def test_an_overlay_of_the_whole_price_sets_the_rest(tmp_path):
    cat = _overlay(tmp_path, "systems:\n  - id: dgx-h100\n    price_usd: 310000\n")
    s = cat.system("dgx-h100")
    assert (s.price_usd, s.rest_of_system_usd) == (310_000, 310_000 - 8 * 27_500)
    both = _overlay(tmp_path, "systems:\n  - id: dgx-h100\n    price_usd: 320000\n    rest_of_system_usd: 100000\n")
    assert both.system("dgx-h100").price_usd == 320_000


def test_a_new_system_may_give_either_figure(tmp_path):
    entry = ("systems:\n  - id: my-h100-box\n    name: My box\n    vendor: Me\n    accelerator: h100-sxm-80g\n"
             "    gpus_per_system: 8\n    power_max_w: 10200\n    power_typical_w: 7500\n    rack_units: 8\n"
             "    systems_per_rack: 4\n    cooling_required: air\n    source: my quote\n    date: '2025'\n"
             "    price_source: my quote\n    price_date: '2025'\n")
    rest = _overlay(tmp_path, entry + "    rest_of_system_usd: 50000\n").system("my-h100-box")
    assert rest.price_usd == 8 * 27_500 + 50_000
    whole = _overlay(tmp_path, entry + "    price_usd: 300000\n").system("my-h100-box")
    assert whole.rest_of_system_usd == 300_000 - 8 * 27_500


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("systems:\n  - id: dgx-h100\n    price_usd: 1000\n", ["price_usd", "1000", "at least the price of its 8 accelerators"]),
        ("systems:\n  - id: dgx-h100\n    price_usd: 300000\n    rest_of_system_usd: 5\n",
         ["price_usd", "300000", "rest_of_system_usd", "only one of the two"]),
        ("systems:\n  - id: dgx-h100\n    rest_of_system_usd: -5\n", ["rest_of_system_usd", "-5"]),
        ("systems:\n  - id: dgx-h100\n    rest_of_system_usd: lots\n", ["rest_of_system_usd", "lots"]),
        ("accelerators:\n  - id: h100-sxm-80g\n    price_usd: -1\n", ["price_usd", "-1"]),
    ],
)
def test_bad_prices_in_an_overlay_are_one_line_errors(tmp_path, cli, text, fragments):
    f = tmp_path / "o.yaml"
    f.write_text(text)
    r = cli("design", "--accelerator", "h100", "--gpus", "8", "--catalog", str(f))
    assert r.code == 2 and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line and line.startswith("stargate: error:")
    for frag in fragments:
        assert frag in line, frag
