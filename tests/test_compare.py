"""`stargate compare` and its core: deltas against the first answer, and parts that add up to each delta."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stargate.answers import collect, design_request, split_pairs, train_request
from stargate.cluster.design import design_cluster
from stargate.compare import UNATTRIBUTED, Metric, _delta, compare, metrics_of
from stargate.errors import InputError
from stargate.plan import builtin_scenario, run_plan
from stargate.scenario import DesignRequest

TRAIN_8B = "model=llama3.1-8b,accelerator=h100,gpus=64,seq-len=8192,global-batch=512"


def _design(**kw) -> dict:
    return design_cluster(DesignRequest(**kw)).model_dump(mode="json")


def _assert_parts_add_up(comparison) -> int:
    """Every delta with parts: the parts' deltas add up to the delta. Returns how many were checked."""
    checked = 0
    for d in comparison.deltas:
        for name, m in d.metrics.items():
            if m.parts is None:
                continue
            scale = max(abs(m.base), abs(m.value), *(abs(x) for x in m.parts.values()))
            assert math.isclose(math.fsum(m.parts.values()), m.delta, rel_tol=0, abs_tol=1e-9 * scale), name
            checked += 1
    return checked


@pytest.mark.parametrize("a, b", [
    ({"accelerator": "gb200", "budget_usd": 10e9, "fabric": "ethernet"}, {"accelerator": "mi355x", "budget_usd": 10e9}),
    ({"accelerator": "h100", "gpus": 1024}, {"accelerator": "b200", "gpus": 4096, "fabric": "ethernet"}),
    ({"accelerator": "gb200", "power_w": 1e9}, {"accelerator": "gb200", "power_w": 1e9, "energy_source": "gas-ccgt"}),
])
def test_design_deltas_add_up(a, b):
    c = compare([("a", _design(**a)), ("b", _design(**b))])
    assert _assert_parts_add_up(c) == 6  # capex, capex per GPU, IT power, facility power, opex, TCO


def test_capex_delta_parts_are_the_category_differences():
    a, b = _design(accelerator="h100", gpus=1024), _design(accelerator="b200", gpus=1024)
    d = compare([("h100", a), ("b200", b)]).deltas[0].metrics
    assert d["gpus"].delta == 0 and d["gpus"].delta_pct == 0
    cap = d["capex_usd"]
    assert cap.delta == pytest.approx(b["capex_usd"] - a["capex_usd"], rel=1e-12)
    assert cap.delta_pct == pytest.approx(100 * (b["capex_usd"] / a["capex_usd"] - 1), rel=1e-12)
    for k in a["capex_breakdown_usd"]:
        assert cap.parts[k] == pytest.approx(b["capex_breakdown_usd"][k] - a["capex_breakdown_usd"][k], abs=1e-6)
    # the chips alone: 1,024 GPUs x the difference of the two catalog prices
    assert UNATTRIBUTED not in cap.parts


def test_gpu_count_doubles(catalog):
    c = compare([("1k", _design(accelerator="h100", gpus=1024)), ("2k", _design(accelerator="h100", gpus=2048))])
    g = c.deltas[0].metrics["gpus"]
    assert (g.base, g.value, g.delta, g.delta_pct) == (1024.0, 2048.0, 1024.0, 100.0)
    acc = catalog.accelerator("h100")
    chips = c.deltas[0].metrics["it_power_w"].parts["accelerators"]
    assert chips == pytest.approx(1024 * acc.tdp_w)  # 1,024 more GPUs at their TDP


def test_facility_power_parts_from_the_catalog(catalog):
    """The systems' share of facility power is the systems at their peak draw with the CPU halls, by hand."""
    d = _design(accelerator="h100", gpus=1024)
    m = metrics_of(d)["facility_power_w"]
    system = catalog.system("dgx-h100")
    support = catalog.it_overhead().support_fraction_of_systems
    assert m.parts["systems"] == pytest.approx(128 * system.power_peak_w * (1 + support), rel=1e-9)
    assert m.parts["cooling_and_losses"] == pytest.approx(d["peak_it_power_w"] * (d["design_pue"] - 1), rel=1e-9)
    assert math.fsum(m.parts.values()) == pytest.approx(d["facility_power_w"], rel=1e-12)


def test_plan_deltas_add_up():
    plans = [(n, run_plan(builtin_scenario(n)).model_dump(mode="json")) for n in ("stargate", "stargate-multisite")]
    c = compare(plans)
    assert c.kind == "plan" and _assert_parts_add_up(c) == 4
    cap = c.deltas[0].metrics["capex_usd"]
    assert cap.delta == pytest.approx(plans[1][1]["totals"]["capex_usd"] - plans[0][1]["totals"]["capex_usd"])
    assert "site_links" in cap.parts  # the multi-site plan's links are part of its capex


def test_train_deltas_add_up():
    a, b = (collect([], [], [TRAIN_8B, TRAIN_8B.replace("h100", "b200")], [], None)[i] for i in (0, 1))
    c = compare([a, b])
    assert _assert_parts_add_up(c) == 2  # step time by component, memory by kind
    step = c.deltas[0].metrics["step_time_s"]
    assert step.delta == pytest.approx(b[1]["step_time_s"] - a[1]["step_time_s"])


def test_unattributed_rest_when_a_breakdown_does_not_add_up():
    d = _design(accelerator="h100", gpus=8)
    d["capex_usd"] += 1000.0  # a file edited by hand
    m = metrics_of(d)["capex_usd"]
    assert m.parts[UNATTRIBUTED] == pytest.approx(1000.0)
    assert math.fsum(m.parts.values()) == pytest.approx(m.value)


def test_zero_base_has_no_percent():
    d = _delta(Metric(value=0.0, unit="W", parts={"a": 0.0}), Metric(value=5.0, unit="W", parts={"a": 2.0, "b": 3.0}))
    assert (d.delta, d.delta_pct, d.parts) == (5.0, None, {"a": 2.0, "b": 3.0})


def test_three_answers_each_against_the_first():
    answers = [(str(n), _design(accelerator="h100", gpus=n)) for n in (8, 16, 32)]
    c = compare(answers)
    assert [d.label for d in c.deltas] == ["16", "32"] and {d.base for d in c.deltas} == {"8"}
    assert [d.metrics["gpus"].delta for d in c.deltas] == [8.0, 24.0]


def test_compare_refuses_mixed_kinds_and_single_answers():
    d = _design(accelerator="h100", gpus=8)
    with pytest.raises(InputError, match="two or more"):
        compare([("a", d)])
    with pytest.raises(InputError, match="a design, like the first"):
        compare([("a", d), ("p.json", run_plan(builtin_scenario("stargate")).model_dump(mode="json"))])
    with pytest.raises(InputError, match="the JSON of"):
        compare([("a", d), ("b", {"x": 1})])


def test_option_strings_split_and_validate():
    assert split_pairs("power=5 GW, budget=1,000,000", "--design") == {"power": "5 GW", "budget": "1,000,000"}
    assert design_request({"accelerator": "gb200", "scale-out": "800 Gbit/s", "gpus": "72"}).scale_out_bits_per_s == 800e9
    assert design_request({"accelerator": "gb200", "budget_usd": "$1B"}).budget_usd == 1e9
    r = train_request(split_pairs(TRAIN_8B + ",tp=2,framework=TorchTitan", "--train"), "--train ")
    assert (r.tp, r.workload.framework, r.workload.seq_len) == (2, "torchtitan", 8192)


# --- the command ------------------------------------------------------------------------------------

def test_cli_compare_designs_text(cli):
    r = cli("compare", "--design", "accelerator=gb200,budget=10e9,fabric=ethernet", "--design", "accelerator=mi355x,budget=10e9")
    assert r.code == 0, r.stderr
    assert "[1] accelerator=gb200,budget=10e9,fabric=ethernet (base)" in r.stdout
    assert "capex" in r.stdout and "accelerators" in r.stdout and "cooling and losses" in r.stdout


def test_cli_compare_json_contract(cli):
    r = cli("compare", "--design", "accelerator=h100,gpus=1024", "--design", "accelerator=h100,gpus=2048", "--json")
    assert r.code == 0, r.stderr
    out = json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert {"items", "deltas"} <= set(out) and out["kind"] == "design"
    assert out["items"][1]["answer"]["gpus"] == 2048  # the whole answer, as `design --json` prints it
    assert out["deltas"][0]["metrics"]["gpus"] == {"base": 1024.0, "value": 2048.0, "delta": 1024.0, "delta_pct": 100.0,
                                                   "unit": "count", "parts": None}


def test_cli_compare_files_of_each_kind(cli, tmp_path):
    a, b = tmp_path / "h100.json", tmp_path / "b200.json"
    a.write_text(cli("design", "--accelerator", "h100", "--gpus", "1024", "--json").stdout)
    b.write_text(cli("design", "--accelerator", "b200", "--gpus", "1024", "--json").stdout)
    req = tmp_path / "gb200.yaml"
    req.write_text("accelerator: gb200\nbudget_usd: 1e9\n")
    r = cli("compare", str(a), str(b), str(req), "--design", "accelerator=h100,gpus=8", "--json")
    assert r.code == 0, r.stderr
    out = r.json()
    assert [i["label"] for i in out["items"]] == ["h100.json", "b200.json", "gb200.yaml", "accelerator=h100,gpus=8"]
    assert out["deltas"][1]["metrics"]["capex_usd"]["value"] <= 1e9  # the request was designed, within its budget
    t1, t2 = tmp_path / "t1.json", tmp_path / "t2.json"
    t1.write_text(cli("train", *_train_args("h100"), "--json").stdout)
    t2.write_text(cli("train", *_train_args("b200"), "--json").stdout)
    r = cli("compare", str(t1), str(t2), "--json")
    assert r.code == 0 and r.json()["kind"] == "train"


def test_cli_compare_scenarios(cli, tmp_path):
    sc = tmp_path / "small.yaml"
    sc.write_text("name: small\nphases:\n  - {name: P1, year: 2024, accelerator: h100, gpus: 1024}\n")
    big = tmp_path / "big.yaml"
    big.write_text("name: big\nphases:\n  - {name: P1, year: 2024, accelerator: h100, gpus: 1024}\n"
                   "  - {name: P2, year: 2025, accelerator: gb200, gpus: 4608}\n")
    r = cli("compare", str(sc), str(big), "--json")
    assert r.code == 0, r.stderr
    d = r.json()["deltas"][0]["metrics"]
    assert d["phases"]["delta"] == 1 and d["gpus"]["delta"] == 4608


def _train_args(acc: str) -> list[str]:
    return ["--model", "llama3.1-8b", "--accelerator", acc, "--gpus", "64", "--seq-len", "8192", "--global-batch", "512"]


@pytest.mark.parametrize("args, fragments", [
    (["--design", "accelerator=h100,gpus=8"], ["compare: '1 answer(s)'", "two or more"]),
    (["--design", "accelerator=gb200,budgt=10e9", "--design", "accelerator=h100,gpus=8"],
     ["--design: 'budgt=10e9' is not allowed", "keys among accelerator"]),
    (["--design", "accelerator=gb200,budget=-1", "--design", "accelerator=h100,gpus=8"],
     ["--design budget: '-1' is not allowed; expected a number above 0"]),
    (["--design", "accelerator=nope,gpus=8", "--design", "accelerator=h100,gpus=8"], ["--design accelerator: 'nope'"]),
    (["--design", "accelerator=h100,gpus=8,power=5 GW", "--design", "accelerator=h100,gpus=8"],
     ["--design sizing: 'gpus, power'", "exactly one of"]),
    (["--design", "gb200", "--design", "accelerator=h100,gpus=8"], ["--design: 'gb200'", "key=value pairs"]),
    (["--design", "accelerator=h100,gpus=8,gpus=9", "--design", "accelerator=h100,gpus=8"], ["each key once"]),
    (["--train", TRAIN_8B.replace("gpus=64", "gpus=6.5"), "--train", TRAIN_8B], ["--train gpus: '6.5'", "whole number"]),
    (["--train", TRAIN_8B + ",tp=3", "--train", TRAIN_8B], ["--train"]),
    (["--design", "accelerator=h100,gpus=8", "--builtin", "stargate"], ["--builtin: 'stargate'", "one kind"]),
    (["--builtin", "nope", "--builtin", "stargate"], ["--builtin: 'nope'", "built-in scenarios"]),
    (["/no/such.json", "--design", "accelerator=h100,gpus=8"], ["file: '/no/such.json'", "readable file"]),
    (["--design", "accelerator=h100,gpus=8", "--design", "accelerator=h100,gpus=16", "--csv", "--json"],
     ["--csv: '--json'", "not both"]),
    (["--design", "accelerator=h100,gpus=8"] * 17, ["at most 16 answers"]),
])
def test_cli_compare_bad_input(cli, args, fragments):
    r = cli("compare", *args)
    assert r.code == 2, r.stdout
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("stargate: error: ")
    for f in fragments:
        assert f in r.stderr


@pytest.mark.parametrize("text, fragment", [
    ('{"capex_usd": NaN, "racks": 1, "capex_breakdown_usd": {}}', "strict JSON"),
    ('{"capex_usd": 1e999, "racks": 1, "capex_breakdown_usd": {}}', "strict JSON"),
    ("[1, 2]", "a mapping"),
    ('{"hello": 1}', "a scenario YAML, a design or training request"),
    ('{"racks": 1, "capex_breakdown_usd": {"a": 1}}', "file bad.json: accelerator"),
    ('{"step_time_s": 1.0, "breakdown_s": {"compute": "fast"}}', "a figure is missing or not a number"),
    ("{", "strict JSON"),
    ('{"step_time_s": 1e300, "breakdown_s": {"compute": 1e300}}', "breakdown_s.compute: 1e+300"),
    ('{"step_time_s": 1.0, "breakdown_s": {"compute": 1}, "x": ' + "[" * 5000 + "]" * 5000 + "}", "strict JSON"),
])
def test_cli_compare_bad_files(cli, tmp_path, text, fragment):
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    r = cli("compare", str(bad), "--design", "accelerator=h100,gpus=8")
    assert r.code == 2 and r.stderr.count("\n") == 1, r.stderr
    assert fragment in r.stderr


def test_cli_compare_folder_is_refused(cli, tmp_path):
    r = cli("compare", str(tmp_path), "--design", "accelerator=h100,gpus=8")
    assert r.code == 2 and "a regular file" in r.stderr


_CHIPS = ["h100", "b200", "gb200", "mi300x", "mi355x"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_CHIPS), st.integers(1, 20_000), st.sampled_from(["infiniband", "ethernet"])),
                min_size=2, max_size=4))
def test_parts_add_up_for_any_designs(specs):
    """Invariant: whatever the designs, every delta's parts add up to the delta, and each part's delta
    is the difference of the two answers' parts."""
    answers = [(f"{i}", _design(accelerator=a, gpus=n, fabric=f)) for i, (a, n, f) in enumerate(specs)]
    c = compare(answers)
    assert _assert_parts_add_up(c) == 6 * (len(specs) - 1)
    for d, (_, answer) in zip(c.deltas, answers[1:], strict=True):
        cap = d.metrics["capex_usd"]
        for k, v in answer["capex_breakdown_usd"].items():
            assert cap.parts[k] == pytest.approx(v - answers[0][1]["capex_breakdown_usd"][k], abs=1e-6)


@pytest.mark.parametrize("name, text, message", [
    ("bad.yaml", "name: x\nphases:\n  - {name: P1, year: 2024, accelerator: h100, gpus: -5}\n",
     "scenario bad.yaml: phase 'P1'.gpus: -5 is not allowed; expected a number above 0"),
    ("badd.yaml", "accelerator: h100\nbudget_usd: abc\n", "file badd.yaml: budget_usd: 'abc' is not allowed"),
    ("badt.yaml", "model: llama3.1-8b\nworkload: {accelerator: h100, gpus: 64, seq_len: 8192, global_batch: 512, tp: 2}\n",
     "file badt.yaml: workload.tp: 2 is not allowed; expected no such field"),
    ("bomb.yaml", ("a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"), "YAML bomb"),
])
def test_cli_compare_bad_request_files(cli, tmp_path, name, text, message):
    bad = tmp_path / name
    bad.write_text(text)
    r = cli("compare", str(bad), "--design", "accelerator=h100,gpus=8")
    assert r.code == 2 and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr
