"""Readable answers: one formatter (SI prefix after rounding), one count parser, whole labels at 80 columns.

The formatter is checked against two independent references: pint's own ``to_compact`` on the rounded
value, and the project's parsers reading every printed figure back within the precision shown.
"""

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stargate.errors import InputError
from stargate.format import (
    format_count,
    format_days,
    format_quantity,
    format_scaled_count,
    format_usd,
    round_significant,
)
from stargate.units import parse_count, parse_quantity, parse_usd

# unit printed -> (dimension parse_quantity reads it as, the same unit in pint's words)
UNITS = {"W": ("power", "watt"), "B": ("bytes", "byte"), "B/s": ("bytes_per_s", "byte / second"),
         "bit/s": ("bits_per_s", "bit / second"), "FLOP/s": ("flop_per_s", "flop / second"), "s": ("time", "second"),
         "m": ("length", "meter"), "Wh": ("energy", "watt_hour")}
PREFIXES = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E", 21: "Z"}
magnitudes = st.floats(min_value=1e-11, max_value=9e23, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("power", sorted(PREFIXES))
@pytest.mark.parametrize("unit", ["W", "B/s", "FLOP/s"])
def test_exact_powers_of_1000_take_the_larger_prefix(power, unit):
    assert format_quantity(10.0**power, unit) == f"1 {PREFIXES[power]}{unit}"
    # just under the power: rounded to three digits it is the power itself, so the same text
    assert format_quantity(10.0**power * (1 - 1e-6), unit) == f"1 {PREFIXES[power]}{unit}"


def test_one_gigawatt_is_not_1e3_megawatts():
    """The figure that printed ``1e+03 MW``: 1 GW less a rounding error."""
    assert format_quantity(999_999_999.9999, "W") == "1 GW"
    assert format_quantity(999_400_000.0, "W") == "999 MW"
    assert format_quantity(999_500_000.0, "W") == "1 GW"


@given(magnitudes, st.sampled_from(sorted(UNITS)), st.integers(2, 5))
def test_formatting_then_parsing_round_trips_within_the_printed_precision(value, unit, digits):
    text = format_quantity(value, unit, digits)
    assert "e" not in text.split()[0], text  # never scientific notation within the prefixes
    number = float(text.split()[0].replace(",", ""))
    capped = {"m": "km", "s": "s"}.get(unit) == text.split()[1]  # lengths in km at most, times in seconds
    assert 1 <= number and (number < 1000 or capped), text  # the prefix suits the rounded value
    back = parse_quantity(text, UNITS[unit][0]) / (3600.0 if unit == "Wh" else 1.0)  # energy is read in joules
    assert math.isclose(back, value, rel_tol=0.5 * 10 ** (1 - digits) * (1 + 1e-9)), (value, text, back)


@given(magnitudes, st.sampled_from(["W", "B/s", "bit/s", "FLOP/s", "B", "Wh"]))
def test_the_prefix_is_pints_compact_prefix_of_the_rounded_value(value, unit):
    """Pint's to_compact picks the same prefix once the value is rounded (it picks before rounding)."""
    from stargate.units import _registry

    q = _registry().Quantity(round_significant(value, 3), UNITS[unit][1]).to_compact()
    ours = format_quantity(value, unit)
    pint_text = f"{q:~C.3g}".replace("FLOP / s", "FLOP/s")
    if float(pint_text.split()[0]) < 1000:  # where pint itself is right
        assert ours.split()[1] == pint_text.split()[1], (ours, pint_text)
        assert float(ours.split()[0]) == pytest.approx(float(pint_text.split()[0]), rel=1e-12)


@given(st.floats(min_value=0.01, max_value=9e15, allow_nan=False))
def test_usd_round_trips_within_its_printed_decimal(value):
    text = format_usd(value)
    back = parse_usd(text)
    match = re.fullmatch(r"\$([\d,]+\.\d+)([kMBT]?)", text)
    assert match, text
    scale = {"": 0.01, "k": 1e2, "M": 1e5, "B": 1e8, "T": 1e11}[match[2]]  # half the last printed digit, x2
    assert abs(back - value) <= 0.5 * scale * (1 + 1e-9) + 1e-9 * value, (value, text)
    assert float(match[1].replace(",", "")) < 1000 or match[2] in ("", "T"), text


@pytest.mark.parametrize(("value", "text"), [(1e10, "$10.0B"), (1e12, "$1.0T"), (999.97e9, "$1.0T"),
                                             (999.94e9, "$999.9B"), (999.999, "$1.0k"), (2.634, "$2.63")])
def test_usd_scale_is_chosen_after_rounding(value, text):
    assert format_usd(value) == text


@given(st.integers(0, 10**15))
def test_counts_round_trip(n):
    assert parse_count(format_count(n)) == n
    text = format_scaled_count(n)
    assert math.isclose(parse_count(text), n, rel_tol=0.005, abs_tol=0.5), (n, text)


def test_days():
    assert format_days(45.23) == "45.2 days"
    assert format_days(0.96) == "1.0 day"


@pytest.mark.parametrize(("text", "count"), [
    ("100k", 100_000), ("1e5", 100_000), ("15T", 15 * 10**12), ("8k", 8_000), ("1.5M", 1_500_000),
    ("49,152", 49_152), ("49152", 49_152), ("405B", 405 * 10**9), ("2G", 2 * 10**9), ("128Ki", 131_072),
    (" 64 ", 64), (1024, 1024), (2048.0, 2048),
])
def test_count_forms(text, count):
    assert parse_count(text) == count


def test_sequence_lengths_read_k_as_1024():
    assert parse_count("8k", binary_k=True) == 8192
    assert parse_count("128k", binary_k=True) == 131_072
    assert parse_count("8000", binary_k=True) == 8000


@pytest.mark.parametrize("text", ["1e400", "nan", "inf", "10**5", "1k1", "1,5", "12,34,567", "-5", "1e5k", "0.5",
                                  "1.0001k", "1_000", "１２", "", "k", "1 000", "0x10", True, None, [1], "1" * 80])
def test_hostile_or_ambiguous_counts_are_refused(text):
    with pytest.raises(InputError) as e:
        parse_count(text, "--gpus")
    assert str(e.value).startswith("--gpus: ")


# ---- the shells: every count option takes the same forms, every figure reads the same ----

def test_design_by_one_gigawatt_prints_1_gw(cli):
    r = cli("design", "--accelerator", "gb200", "--power", "1 GW")
    assert r.code == 0, r.stderr
    assert "facility 1 GW" in r.stdout and "e+" not in r.stdout


@pytest.mark.parametrize(("typed", "plain"), [
    (["design", "--accelerator", "h100", "--gpus", "100k"], ["design", "--accelerator", "h100", "--gpus", "100000"]),
    (["fabric", "--gpus", "49,152", "--pod-gpus", "8k"], ["fabric", "--gpus", "49152", "--pod-gpus", "8000"]),
    (["train", "--model", "llama3.1-8b", "--accelerator", "h100", "--gpus", "1k", "--seq-len", "8k",
      "--global-batch", "1e3", "--tokens", "15T"],
     ["train", "--model", "llama3.1-8b", "--accelerator", "h100", "--gpus", "1000", "--seq-len", "8192",
      "--global-batch", "1000", "--tokens", "15000000000000"]),
])
def test_count_options_take_scale_letters(cli, typed, plain):
    a, b = cli(*typed, "--json"), cli(*plain, "--json")
    assert a.code == 0 == b.code, a.stderr + b.stderr
    da, db = a.json(), b.json()
    for volatile in ("search",):
        da.pop(volatile, None), db.pop(volatile, None)
    assert da == db


@pytest.mark.parametrize(("option", "value"), [("--gpus", "1e400"), ("--gpus", "nan"), ("--gpus", "10**5"),
                                               ("--gpus", "1k1"), ("--seq-len", "8kk"), ("--global-batch", "1.5"),
                                               ("--tokens", "15Q")])
def test_bad_counts_are_one_line_exit_2_echoed_as_typed(cli, option, value):
    args = {"--gpus": "64", "--seq-len": "4096", "--global-batch": "64", option: value}
    r = cli("train", "--model", "llama3.1-8b", "--accelerator", "h100", *[x for kv in args.items() for x in kv])
    assert r.code == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"stargate: error: {option}: '{value}' is not allowed")


def test_scenario_and_sweep_counts(tmp_path, cli):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nphases:\n  - {name: P1, year: 2025, accelerator: h100, gpus: 16k, "
                        "seq_len: 4k, global_batch: 1k}\n")
    p = cli("plan", str(scenario), "--json").json()["phases"][0]
    assert p["gpus"] == 16_000
    from stargate.scenario import Phase, validate

    phase = validate(Phase, {"name": "P", "year": 2025, "accelerator": "h100", "gpus": "16k", "seq_len": "4k"})
    assert (phase.gpus, phase.seq_len) == (16_000, 4096)
    from stargate.sweep.spec import SweepSpec

    spec = SweepSpec(name="t", axes={"accelerator": ["h100"], "gpus": ["1k", "2k"]},
                     fixed={"training_tokens": "15T", "seq_len": "8k"})
    spec.check()
    assert spec.axes["gpus"] == [1000, 2000] and spec.fixed == {"training_tokens": 15e12, "seq_len": 8192}


def test_api_counts():
    from fastapi.testclient import TestClient

    from stargate.web.app import create_app

    client = TestClient(create_app())
    body = {"model": "llama3.1-8b", "accelerator": "h100", "gpus": "64", "seq_len": "4k", "global_batch": "256"}
    a = client.post("/api/train", json=body)
    b = client.post("/api/train", json={**body, "gpus": 64, "seq_len": 4096, "global_batch": 256})
    assert a.status_code == 200 == b.status_code, a.text
    assert a.json()["step_time_s"] == b.json()["step_time_s"]
    bad = client.post("/api/train", json={**body, "gpus": "1k1"})
    assert bad.status_code == 422 and "1k1" in bad.text
    over = client.post("/api/fabric", json={"gpus": "1T"})
    assert over.status_code == 422


# ---- 80 columns: every label whole ----

LABELS = {
    "design": (["design", "--accelerator", "gb200", "--budget", "$10B"],
               ["rest of servers", "cpu and management", "power infrastructure", "facility maintenance",
                "facility depreciation", "capital cost"]),
    "fabric": (["fabric", "--gpus", "100k", "--compare"],
               ["switches by tier", "link length by tier", "cables and fibres", "worst-case latency",
                "reduce scatter 1gib all gpus", "send recv 1gib across fabric"]),
    "train": (["train", "--model", "llama3.1-405b", "--accelerator", "h100", "--gpus", "16k", "--seq-len", "8k",
               "--global-batch", "2k"],
              ["pipeline bubble", "comm contention", "optimizer", "activations", "fragmentation"]),
    "plan": (["plan"],
             ["accelerator", "facility power", "PUE design / annual", "power infrastructure", "TCO per GPU-hour",
              "cost of capital", "peak (dense 16-bit)", "MFU (reference model)", "interruptions per day",
              "restart / spares", "synthetic share", "GPT-4-class (2e25 FLOP)", "days P10–P90", "energy per year",
              "carbon per year", "reported"]),
}


@pytest.mark.parametrize("command", sorted(LABELS))
def test_80_columns_keep_every_label_whole(cli, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "80")
    args, labels = LABELS[command]
    r = cli(*args)
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    for label in labels:
        assert any(re.search(rf"(^|[│\s]){re.escape(label)}(\s|$)", line) for line in lines), label
    assert "…" not in r.stdout


# ---- validate: the summary first, one line per row; the full table with --rows ----

RUNS = "../shared/validation/published_runs.csv"
CLUSTERS = "../shared/validation/clusters.csv"


def _shared(path):
    from pathlib import Path

    p = Path(__file__).resolve().parents[1] / path
    if not p.exists():
        pytest.skip(f"{path} is not in this checkout")
    return str(p)


def test_validate_prints_the_summary_first_and_one_line_per_row(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    runs = _shared(RUNS)
    report = cli("validate", runs, "--json").json()
    r = cli("validate", runs)
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"predicted {report['summary']['predicted']} rows")
    assert r.stdout.index("median |error|") < r.stdout.index("by source") < r.stdout.index("Rows")
    rows = lines[next(i for i, x in enumerate(lines) if x.startswith("Rows")) + 2:]
    body = [x for x in rows if x.split() and x.split()[0] in {str(row["run_id"]) for row in report["rows"]}]
    assert len(body) == len(report["rows"])  # every row, each on one line
    assert len(lines) <= len(report["rows"]) + 60 and max(map(len, lines)) <= 80
    for name in [*report["summary"]["by_source"], *report["summary"]["by_accelerator"]]:  # labels whole
        assert any(re.match(rf"│ {re.escape(name)}\s+│", line) for line in lines), name
    for row in report["rows"][:20]:
        if row["error"] is not None:
            line = next(x for x in body if x.split()[0] == str(row["run_id"]))
            assert line.endswith(f"{100 * row['error']:+.1f}%")
    assert "recompute=" not in r.stdout
    monkeypatch.setenv("COLUMNS", "400")
    full = cli("validate", runs, "--rows")
    assert "defaults taken / skipped" in full.stdout
    for row in report["rows"][:20]:
        assert (row["skipped"] or "; ".join(row["defaults"])) in full.stdout
    assert cli("validate", runs, "--rows", "--json").json() == report  # JSON as it was


def test_validate_on_clusters_is_compact_with_rows_on_demand(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    clusters = _shared(CLUSTERS)
    report = cli("validate", clusters, "--json").json()
    r = cli("validate", clusters)
    lines = r.stdout.splitlines()
    s = report["summary"]
    assert lines[0] == f"{s['inside']} of {s['rows']} checks inside their published band"
    assert sum(1 for x in lines if x.rstrip().endswith(("inside", "outside"))) == len(report["rows"])
    assert max(map(len, lines)) <= 80
    full = cli("validate", clusters, "--rows")
    assert len(full.stdout.splitlines()) > len(lines) and {"band", "source"} <= set(full.stdout.split())


# ---- catalog: every kind listed and every entry shown, as KIND/ID and, where unique, as ID ----

def _all_entries():
    from stargate.catalog import Catalog
    from stargate.catalog.schema import KINDS

    cat = Catalog.load()
    return [(kind, e.id) for kind in KINDS for e in cat.entries(kind)]


def test_catalog_list_lists_every_kind(cli):
    from stargate.catalog.schema import KINDS

    listing = cli("catalog", "list", "--json").json()
    assert list(listing) == list(KINDS)
    text = cli("catalog", "list").stdout
    for kind in KINDS:
        assert re.search(rf"^{kind}\s*$", text, re.MULTILINE), kind
        assert cli("catalog", "list", kind, "--json").json()[kind] == listing[kind]


@pytest.mark.parametrize(("kind", "entry_id"), _all_entries())
def test_catalog_show_reaches_every_entry(cli, kind, entry_id):
    from stargate.catalog import Catalog

    expected = Catalog.load().get(kind, entry_id).model_dump(mode="json")
    shown = cli("catalog", "show", f"{kind}/{entry_id}", "--json")
    assert shown.code == 0, shown.stderr
    sourced, bands = expected.pop("bands"), shown.json().pop("bands")  # every number's band, the sourced ones among them
    assert {k: v for k, v in shown.json().items() if k != "bands"} == {"kind": kind, **expected, "section": kind}
    for field, band in sourced.items():
        assert {k: bands[field][k] for k in ("p10", "p90", "source", "date")} == {
            "p10": band["low"], "p90": band["high"], "source": band["source"], "date": band["date"]}
    text = cli("catalog", "show", f"{kind}/{entry_id}")
    assert text.code == 0 and f"{kind}: {entry_id}" in text.stdout
    owners = [k for k, i in _all_entries() if i == entry_id]
    bare = cli("catalog", "show", entry_id, "--json")
    if len(owners) == 1:
        assert bare.json() == shown.json()
    else:  # an id several sections use: one line naming each KIND/ID
        assert bare.code == 2 and f"{kind}/{entry_id}" in bare.stderr and bare.stderr.count("\n") == 1


@pytest.mark.parametrize(("typed", "kind"), [("finance/default", "finance"), ("energy-source/grid-us", "energy_sources"),
                                             ("floor_plan/default", "floor_plans"), ("WAN/default", "wan")])
def test_catalog_kind_spellings(cli, typed, kind):
    assert cli("catalog", "show", typed, "--json").json()["section"] == kind


def test_catalog_show_bad_kind_is_one_line(cli):
    r = cli("catalog", "show", "finances/nope")
    assert r.code == 2 and r.stderr.startswith("stargate: error: id: 'nope'")
    r = cli("catalog", "show", "money/default")
    assert r.code == 2 and r.stderr.startswith("stargate: error: kind: 'money' is not allowed; expected one of accelerators")


# ---- errors echo the value as typed, and word the bound in the option's unit ----

@pytest.mark.parametrize(("args", "typed", "expected"), [
    (["design", "--accelerator", "h100", "--power", "2 TW"], "--power: '2 TW'", "a value of at most 1 TW"),
    (["design", "--accelerator", "h100", "--power", "-5 GW"], "--power: '-5 GW'", "a number above 0"),
    (["design", "--accelerator", "h100", "--budget", "$20T"], "--budget: '$20T'", "a value of at most $10.0T"),
    (["design", "--accelerator", "h100", "--gpus", "8", "--scale-out", "100 Tbit/s"], "--scale-out: '100 Tbit/s'",
     "a value of at most 25.6 Tbit/s"),
    (["design", "--accelerator", "h100", "--gpus", "8", "--scale-out", "1 bit/s"], "--scale-out: '1 bit/s'",
     "a value of at least 1 Gbit/s"),
    (["fabric", "--gpus", "8", "--scale-out", "100 Mbit/s"], "--scale-out: '100 Mbit/s'", "a value of at least 1 Gbit/s"),
    (["fabric", "--gpus", "1024", "--sites", "2", "--site-distance", "80000 km"], "--site-distance: '80000 km'",
     "at most 20,000 km"),
    (["fabric", "--gpus", "1024", "--sites", "2", "--site-distance", "5 W"], "--site-distance: '5 W'", "meter"),
    (["fabric", "--gpus", "1024", "--sites", "2", "--gradient", "2 EB"], "--gradient: '2 EB'", "a value of at most 1 EB"),
])
def test_quantity_errors_echo_as_typed_in_the_options_unit(cli, args, typed, expected):
    r = cli(*args)
    assert r.code == 2 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"stargate: error: {typed} is not allowed; expected "), r.stderr
    assert expected in r.stderr, r.stderr


def test_quantities_take_thousands_separators():
    assert parse_quantity("1,200 MW", "power") == 1.2e9
    assert parse_quantity("40,000 km", "length") == 4e7
    with pytest.raises(InputError):
        parse_quantity("1,20 MW", "power")


def test_a_one_gigawatt_phase_reads_1_gw_in_the_plan_and_the_report(tmp_path, cli, monkeypatch):
    """The plan table and the HTML report (the dashboard renders the same cells) print 1 GW."""
    monkeypatch.setenv("COLUMNS", "120")
    scenario = tmp_path / "gw.yaml"
    scenario.write_text("name: gw\nphases:\n  - {name: P1, year: 2025, accelerator: gb200, power_w: 1 GW}\n")
    plan = cli("plan", str(scenario), "--json").json()
    assert 0.99e9 < plan["phases"][0]["facility_power_w"] <= 1e9
    text = cli("plan", str(scenario))
    assert re.search(r"facility power\s+│\s+1 GW\s+│", text.stdout), text.stdout
    assert "e+" not in text.stdout and "1000 MW" not in text.stdout
    from stargate.catalog import Catalog
    from stargate.report.html import phase_rows, render_report, summary_cards

    cells = {label: cell(plan["phases"][0]) for label, cell in phase_rows()}
    assert cells["facility power"] == "1 GW"
    assert ("facility power", "1 GW") in summary_cards(plan)
    html = render_report(plan, Catalog.load())
    assert ">1 GW<" in html and "e+03" not in html
