"""The Python API (stargate.api): the same answers as the CLI's --json, the same errors, a DataFrame helper."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest

import stargate
from stargate import api
from stargate.cluster.design import ClusterDesign
from stargate.compare import Comparison
from stargate.errors import InputError
from stargate.plan import Plan
from stargate.scenario import DesignRequest
from stargate.training.context import Workload
from stargate.training.job import TrainRequest

TRAIN = {"model": "llama3.1-8b", "accelerator": "h100", "gpus": 64, "seq_len": 8192, "global_batch": 512}
TRAIN_CLI = ["--model", "llama3.1-8b", "--accelerator", "h100", "--gpus", "64", "--seq-len", "8192", "--global-batch", "512"]


def _no_timing(answer: dict) -> dict:
    return {**answer, "search": {k: v for k, v in answer["search"].items() if k != "search_time_s"}}


def test_design_is_the_cli_answer(cli):
    d = api.design(accelerator="gb200", budget="$10B", fabric="ethernet")
    assert isinstance(d, ClusterDesign)
    assert d.model_dump(mode="json") == cli("design", "--accelerator", "gb200", "--budget", "$10B", "--fabric", "ethernet",
                                            "--json").json()
    assert api.design(DesignRequest(accelerator="gb200", budget_usd=10e9, fabric="ethernet")) == d
    assert api.design(accelerator="gb200", budget_usd=1e10, fabric="ethernet") == d  # field names work too


def test_fabric_train_plan_are_the_cli_answers(cli):
    assert api.fabric(gpus=4096, fabric="ethernet") == cli("fabric", "--gpus", "4096", "--fabric", "ethernet", "--json").json()
    job = api.train(**TRAIN)
    assert _no_timing(job) == _no_timing(cli("train", *TRAIN_CLI, "--json").json())
    request = TrainRequest(model="llama3.1-8b", workload=Workload(**{k: v for k, v in TRAIN.items() if k != "model"}))
    assert _no_timing(api.train(request)) == _no_timing(job)
    p = api.plan(builtin="stargate-amd-ethernet")
    assert isinstance(p, Plan)
    assert p.model_dump(mode="json") == cli("plan", "--builtin", "stargate-amd-ethernet", "--json").json()


def test_plan_from_a_file_and_a_dict(tmp_path):
    text = "name: demo\nphases:\n  - {name: P1, year: 2024, accelerator: h100, gpus: 1024}\n"
    (tmp_path / "demo.yaml").write_text(text)
    from_file = api.plan(tmp_path / "demo.yaml")
    from_dict = api.plan({"name": "demo", "phases": [{"name": "P1", "year": 2024, "accelerator": "h100", "gpus": 1024}]})
    assert from_file == from_dict and from_file.phases[0].gpus == 1024


def test_package_root_reexports():
    assert stargate.design is api.design and stargate.to_pandas is api.to_pandas
    with pytest.raises(AttributeError):
        stargate.no_such_function  # noqa: B018


@pytest.mark.parametrize("call, message", [
    (lambda: api.design(accelerator="h100", gpus=-1), "gpus: -1 is not allowed; expected a number above 0"),
    (lambda: api.design(accelerator="h100", budget="-1"), "budget: '-1' is not allowed; expected a number above 0"),
    (lambda: api.design(accelerator="h100", gpus=8, power="5 GW"), "sizing: 'gpus, power' is not allowed"),
    (lambda: api.design(accelerator="h100", gpus=8, colour="red"), "colour: 'red' is not allowed; expected a keyword among"),
    (lambda: api.design(accelerator="nope", gpus=8), "accelerator: 'nope' is not allowed"),
    (lambda: api.design(DesignRequest(accelerator="h100", gpus=8), gpus=16), "either a request or keywords"),
    (lambda: api.train(**{**TRAIN, "seq_len": "long"}), "seq_len: 'long' is not allowed; expected a whole number"),
    (lambda: api.train(**TRAIN, tp=3), "tp: 3 is not allowed"),
    (lambda: api.fabric(gpus=0), "gpus: 0 is not allowed"),
    (lambda: api.plan(builtin="nope"), "scenario: 'nope' is not allowed"),
    (lambda: api.plan({"name": "x", "phases": []}), "scenario: phases"),
    (lambda: api.compare(api.design(accelerator="h100", gpus=8)), "two or more"),
    (lambda: api.compare({}, {}, labels=["a"]), "labels"),
    (lambda: api.compare([1, "x"], {1: 2}), "1: 'list' is not allowed; expected the JSON of"),
    (lambda: api.sweep({"name": "x", "axes": {"accelerator": ["h100"], "gpus": [0]}}, "unused"), "axes.gpus[0]"),
])
def test_bad_input_raises_input_error(call, message):
    with pytest.raises(InputError, match=re.escape(message)):
        call()


def test_compare_designs_parts_add_up():
    a, b = api.design(accelerator="h100", gpus=1024), api.design(accelerator="b200", gpus=1024)
    c = api.compare(a, b, labels=["H100", "B200"])
    assert isinstance(c, Comparison) and [i.label for i in c.items] == ["H100", "B200"]
    for m in c.deltas[0].metrics.values():
        if m.parts is not None:
            assert math.fsum(m.parts.values()) == pytest.approx(m.delta, abs=1e-9 * max(abs(m.base), abs(m.value)))
    assert api.compare(a.model_dump(mode="json"), b, labels=["H100", "B200"]).deltas == c.deltas  # JSON dicts too


def test_to_pandas_tables():
    d = api.design(accelerator="h100", gpus=1024)
    df = api.to_pandas(d)
    assert list(df.columns) == ["table", "name", "unit", "value"]
    capex = df[df.table == "capex_breakdown_usd"]
    assert capex.value.astype(float).sum() == pytest.approx(d.capex_usd, rel=1e-12)
    p = api.plan()
    phases = api.to_pandas(p)
    assert list(phases.phase) == [ph.name for ph in p.phases]
    assert list(phases["capex_usd (USD)"]) == [ph.capex_usd for ph in p.phases]
    power = api.to_pandas(p, "Power")
    assert list(power["facility_power_w (W)"]) == [ph.facility_power_w for ph in p.phases]
    c = api.to_pandas(api.compare(d, api.design(accelerator="h100", gpus=2048)))
    assert list(c.columns[:3]) == ["metric", "part", "unit"]
    assert c[(c.metric == "gpus")].iloc[0, 5] == 1024.0  # the delta column
    rows = api.to_pandas([{"a": 1, "b": 2.0}, {"a": 3, "b": 4.0}])
    assert rows.shape == (2, 2)
    with pytest.raises(InputError, match="table: 'Sheet9'"):
        api.to_pandas(p, "Sheet9")
    with pytest.raises(InputError, match="only a plan"):
        api.to_pandas(d, "Capex")


def test_to_pandas_names_the_extra_when_pandas_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match=re.escape("pip install 'stargate[analysis]'")):
        api.to_pandas(api.design(accelerator="h100", gpus=8))


def test_sweep_and_query(tmp_path):
    spec = {"name": "api", "axes": {"accelerator": ["h100", "b200"], "gpus": [512, 1024]}, "fixed": {"model": "llama3.1-8b"}}
    counts = api.sweep(spec, tmp_path / "out")
    assert counts["points"] == 4 and counts["computed"] == counts["chunks"]
    again = api.sweep(spec, tmp_path / "out")  # resumes: nothing left to do
    assert again["computed"] == 0 and again["skipped"] == counts["chunks"]
    rows = api.query(tmp_path / "out", "SELECT accelerator, gpus_built, capex_usd FROM results ORDER BY capex_usd")
    assert len(rows) == 4
    direct = api.design(accelerator="b200", gpus=1024)
    (row,) = [r for r in rows if r["accelerator"] == "b200" and r["gpus_built"] == 1024]
    assert row["capex_usd"] == pytest.approx(direct.capex_usd, rel=1e-9)  # the sweep's design is the API's


def test_docs_api_examples_run(tmp_path, monkeypatch):
    """Every ```python block of docs/api.md runs, in order, in one namespace (a notebook)."""
    doc = Path(__file__).resolve().parents[1] / "docs" / "api.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/api.md block {i + 1}", "exec"), namespace)  # noqa: S102
