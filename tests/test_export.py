"""--csv on design, fabric, train, plan and compare; plan --xlsx; the report's compare view."""

from __future__ import annotations

import csv
import io
import math

import pytest
from openpyxl import load_workbook

from stargate.report.comparison import format_value

TRAIN = ["--model", "llama3.1-8b", "--accelerator", "h100", "--gpus", "64", "--seq-len", "8192", "--global-batch", "512"]


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _value(rows: list[dict[str, str]], table: str, name: str, column: str = "value") -> float:
    (row,) = [r for r in rows if r["table"] == table and r["name"] == name]
    return float(row[column])


def test_design_csv_matches_json_and_adds_up(cli):
    args = ["design", "--accelerator", "gb200", "--budget", "$10B"]
    rows, answer = _table(cli(*args, "--csv").stdout), cli(*args, "--json").json()
    assert list(rows[0]) == ["table", "name", "unit", "value"]
    assert _value(rows, "", "capex_usd") == answer["capex_usd"]  # full precision, SI units
    parts = [r for r in rows if r["table"] == "capex_breakdown_usd"]
    assert {r["unit"] for r in parts} == {"USD"} and len(parts) == len(answer["capex_breakdown_usd"])
    assert math.fsum(float(r["value"]) for r in parts) == pytest.approx(answer["capex_usd"], rel=1e-12)
    units = {r["name"]: r["unit"] for r in rows if r["table"] == ""}
    assert (units["facility_power_w"], units["opex_usd_per_year"], units["kw_per_rack"]) == ("W", "USD/year", "kW")


def test_fabric_and_train_csv_match_json(cli):
    fab = ["fabric", "--gpus", "4096", "--fabric", "ethernet"]
    assert _value(_table(cli(*fab, "--csv").stdout), "", "fabric_capex_usd") == cli(*fab, "--json").json()["fabric_capex_usd"]
    rows, answer = _table(cli("train", *TRAIN, "--csv").stdout), cli("train", *TRAIN, "--json").json()
    assert _value(rows, "", "step_time_s") == answer["step_time_s"]
    assert _value(rows, "parallelism", "tp") == answer["parallelism"]["tp"]
    step = [float(r["value"]) for r in rows if r["table"] == "breakdown_s"]
    assert math.fsum(step) == pytest.approx(answer["step_time_s"], rel=1e-9)
    assert _value(rows, "time_to_train", "days") == answer["time_to_train"]["days"]


def test_plan_csv_phases_as_columns(cli):
    text = cli("plan", "--csv").stdout
    plan = cli("plan", "--json").json()
    rows = _table(text)
    names = [p["name"] for p in plan["phases"]]
    assert list(rows[0]) == ["table", "name", "unit", *names, "total"]
    (capex,) = [r for r in rows if r["table"] == "" and r["name"] == "capex_usd"]
    assert [float(capex[n]) for n in names] == [p["capex_usd"] for p in plan["phases"]]
    assert float(capex["total"]) == pytest.approx(math.fsum(float(capex[n]) for n in names), rel=1e-12)
    (acc,) = [r for r in rows if r["table"] == "design.capex_breakdown_usd" and r["name"] == "accelerators"]
    assert acc["unit"] == "USD"


def test_compare_csv_has_values_and_deltas(cli):
    r = cli("compare", "--design", "accelerator=h100,gpus=1024", "--design", "accelerator=h100,gpus=2048", "--csv")
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["metric", "part", "unit", "accelerator=h100,gpus=1024", "accelerator=h100,gpus=2048",
                       "delta accelerator=h100,gpus=2048", "delta % accelerator=h100,gpus=2048"]
    gpus = next(x for x in rows if x[0] == "gpus")
    assert [float(v) for v in gpus[3:]] == [1024, 2048, 1024, 100]
    capex = next(x for x in rows if x[:2] == ["capex_usd", ""])
    parts = [float(x[5]) for x in rows if x[0] == "capex_usd" and x[1]]
    assert math.fsum(parts) == pytest.approx(float(capex[5]), rel=1e-9)


@pytest.mark.parametrize("command", [["design", "--accelerator", "h100", "--gpus", "8"], ["fabric", "--gpus", "64"],
                                     ["train", *TRAIN], ["plan"]])
def test_csv_with_json_is_refused(cli, command):
    r = cli(*command, "--csv", "--json")
    assert r.code == 2 and r.stderr == "stargate: error: --csv: '--json' is not allowed; expected either --json or --csv, not both\n"


def test_csv_and_workbook_write_text_never_formulas(cli, tmp_path):
    sc = tmp_path / "evil.yaml"
    sc.write_text('name: evil\nphases:\n  - {name: "=HYPERLINK(\\"http://x\\")", year: 2024, accelerator: h100, gpus: 1024,'
                  ' site: "@SUM(A1)"}\n')
    text = cli("plan", str(sc), "--csv").stdout
    header = next(csv.reader(io.StringIO(text)))
    assert header[3] == "'=HYPERLINK(\"http://x\")"  # a spreadsheet shows it as text
    book = tmp_path / "evil.xlsx"
    assert cli("plan", str(sc), "--xlsx", str(book)).code == 0
    cell = load_workbook(book)["Phases"]["A2"]
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"


def test_plan_workbook_sheets(cli, tmp_path, catalog):
    book = tmp_path / "plan.xlsx"
    r = cli("plan", "--builtin", "stargate-multisite", "--xlsx", str(book), "--json")
    assert r.code == 0, r.stderr
    plan = r.json()  # the workbook is written beside the usual answer
    wb = load_workbook(book)
    for sheet in ("Phases", "Capex", "Power", "Opex and TCO", "Training", "Reliability", "Outcome", "Multi-site", "Totals",
                  "Warnings", "Assumptions", "Sources"):
        assert sheet in wb.sheetnames
    capex = list(wb["Capex"].iter_rows(values_only=True))
    header = capex[0]
    assert header[0] == "phase" and header[-1] == "capex_usd (USD)"
    for row, phase in zip(capex[1:], plan["phases"], strict=True):  # the categories and the site links add up
        assert row[0] == phase["name"] and row[-1] == pytest.approx(phase["capex_usd"], rel=1e-14)  # Excel: 15 digits
        assert math.fsum(row[1:-1]) == pytest.approx(row[-1], rel=1e-9)
    sources = list(wb["Sources"].iter_rows(values_only=True))
    assert sources[0] == ("kind", "id", "name", "source", "date")
    ids = {(k, i) for k, i, *_ in sources[1:]}
    for p in plan["phases"]:
        assert ("accelerators", catalog.accelerator(p["accelerator"]).id) in ids
        assert ("systems", p["design"]["system"]) in ids
    assert all(s and d for *_, s, d in sources[1:])
    training = list(wb["Training"].iter_rows(values_only=True))
    col = training[0].index("step_time_s (s)")
    steps = [(p["reference_job"] or {}).get("step_time_s") for p in plan["phases"]]
    assert [r[col] for r in training[1:]] == [pytest.approx(s, rel=1e-14) if s else s for s in steps]


def test_workbook_replaces_a_file_whole(cli, tmp_path):
    book = tmp_path / "plan.xlsx"
    book.write_bytes(b"old")
    assert cli("plan", "--xlsx", str(book)).code == 0
    assert load_workbook(book).sheetnames[0] == "Phases"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.xlsx"]  # no temporary file left behind


@pytest.mark.parametrize("target, fragment", [("missing/plan.xlsx", "an existing, writable folder"), (".", "not a folder")])
def test_unwritable_workbook_is_one_line_before_any_work(cli, tmp_path, target, fragment):
    r = cli("plan", "--xlsx", str(tmp_path / target))
    assert r.code == 2 and r.stdout == "" and r.stderr.count("\n") == 1
    assert r.stderr.startswith("stargate: error: --xlsx: ") and fragment in r.stderr


def test_report_compare_view(cli, tmp_path):
    from stargate.compare import compare
    from stargate.plan import builtin_scenario, run_plan

    out = tmp_path / "r.html"
    other = tmp_path / "amd.json"
    other.write_text(cli("plan", "--builtin", "stargate-amd-ethernet", "--json").stdout)
    r = cli("report", "--builtin", "stargate", "--compare", str(other), "-o", str(out))
    assert r.code == 0, r.stderr
    html = out.read_text()
    assert '<section id="compare">' in html and "Compared with amd.json" in html and "[1] stargate (base)" in html
    a, b = (run_plan(builtin_scenario(n)).model_dump(mode="json") for n in ("stargate", "stargate-amd-ethernet"))
    cap = compare([("a", a), ("b", b)]).deltas[0].metrics["capex_usd"]
    assert format_value(cap.delta, "USD", signed=True) in html  # the capex delta, as computed independently here
    assert format_value(cap.parts["network"], "USD", signed=True) in html  # and its network part
    assert html.count('<tr class="part">') >= 6


def test_report_compare_refuses_a_design(cli, tmp_path):
    d = tmp_path / "d.json"
    d.write_text(cli("design", "--accelerator", "h100", "--gpus", "8", "--json").stdout)
    r = cli("report", "--compare", str(d), "-o", str(tmp_path / "r.html"))
    assert r.code == 2 and "--compare" in r.stderr and "this is a design" in r.stderr
    assert not (tmp_path / "r.html").exists()
