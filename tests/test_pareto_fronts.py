"""Pareto fronts that mean something: one front per model and token budget, filtered, readable.

On a sweep over several models the front used to hold the smallest model only (it trains fastest,
so it beats every larger model's designs on time). Fronts are now per group, and each is checked
here against a brute-force O(n²) dominance test over the rows read straight from the Parquet files.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from stargate.sweep.engine import run_sweep
from stargate.sweep.pareto import grouped_pareto_mask
from stargate.sweep.spec import SweepSpec

OBJECTIVES = ["capex_usd", "time_to_train_s", "facility_power_w"]
MODELS = {"llama3.1-8b", "llama3.1-70b", "llama3.1-405b"}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A sweep over three models and two token budgets (120 designs)."""
    out = tmp_path_factory.mktemp("fronts") / "models"
    spec = SweepSpec(name="models", axes={"accelerator": ["h100", "gb200"], "fabric": ["infiniband", "ethernet"],
                                          "budget_usd": {"start": 1e9, "stop": 3e10, "num": 5, "scale": "log"},
                                          "model": sorted(MODELS), "training_tokens": [0, 15e12]},
                     fixed={"training_days": 100}, constraints=["facility_power_w <= 5e9", "fits"], chunk_size=40)
    run_sweep(spec, out)
    return out


def _rows(out: Path) -> list[dict]:
    return pq.read_table(sorted(out.glob("chunk-*.parquet"))).to_pylist()


def _brute_front(rows: list[dict], objectives: list[str]) -> set[tuple]:
    """Objective vectors of the rows that no other row dominates (O(n²), no library)."""
    signs = [-1.0 if o.startswith("-") else 1.0 for o in objectives]
    pts = [tuple(s * r[o.lstrip("-")] for s, o in zip(signs, objectives, strict=True)) for r in rows]
    front = set()
    for p in pts:
        if not any(all(a <= b for a, b in zip(q, p, strict=True)) and q != p for q in pts):
            front.add(p)
    return front


def _vectors(rows: list[dict], objectives: list[str]) -> list[tuple]:
    signs = [-1.0 if o.startswith("-") else 1.0 for o in objectives]
    return [tuple(s * r[o.lstrip("-")] for s, o in zip(signs, objectives, strict=True)) for r in rows]


def _check_fronts(front: list[dict], considered: list[dict], keys: list[str], objectives: list[str]) -> None:
    """Each group's front is exactly the brute-force front of the group's considered rows."""
    by_group: dict[tuple, list[dict]] = {}
    for r in considered:
        by_group.setdefault(tuple(r[k] for k in keys), []).append(r)
    got: dict[tuple, list[dict]] = {}
    for r in front:
        got.setdefault(tuple(r[k] for k in keys), []).append(r)
    assert set(got) == set(by_group)  # a front for every group: none left out
    for key, rows in by_group.items():
        vectors = _vectors(got[key], objectives)
        assert len(vectors) == len(set(vectors))  # duplicates kept once
        assert set(vectors) == _brute_front(rows, objectives), key


def test_default_fronts_hold_every_model_and_token_budget(cli, models):
    """Before: the front of this sweep held llama3.1-8b only."""
    front = cli("pareto", str(models), "--json").json()
    considered = [r for r in _rows(models) if r["meets_constraints"]]
    assert {r["model"] for r in front} == MODELS
    assert {(r["model"], r["training_tokens"]) for r in front} == {(m, t) for m in MODELS for t in (0.0, 15e12)}
    _check_fronts(front, considered, ["model", "training_tokens"], OBJECTIVES)
    assert all(r["group"] == f"model={r['model']}, training_tokens={r['training_tokens']:g}" for r in front)
    groups = [r["group"] for r in front]
    assert groups == sorted(groups, key=lambda g: (g.split(",")[0], float(g.split("=")[-1])))  # grouped, sorted
    for g in set(groups):  # within a group, by the first objective
        capex = [r["capex_usd"] for r in front if r["group"] == g]
        assert capex == sorted(capex)


@pytest.mark.parametrize(("group_by", "keys"), [("none", []), ("accelerator", ["accelerator"]),
                                                ("model,fabric", ["model", "fabric"])])
def test_group_by_and_maximised_objective(cli, models, group_by, keys):
    objectives = ["capex_usd", "-mfu"]
    front = cli("pareto", str(models), "--objectives", ",".join(objectives), "--group-by", group_by, "--json").json()
    considered = [r for r in _rows(models) if r["meets_constraints"]]
    _check_fronts(front, considered, keys, objectives)
    if not keys:
        assert {r["group"] for r in front} == {"all"}


@pytest.mark.parametrize(("where", "keep"), [
    ("accelerator=gb200", lambda r: r["accelerator"] == "gb200"),
    ("accelerator = gb200 | h100, fabric!=ethernet", lambda r: r["fabric"] != "ethernet"),
    ("gpus_built>=10000,capex_usd<$20B", lambda r: r["gpus_built"] >= 10000 and r["capex_usd"] < 20e9),
    ("facility_power_w<=300 MW,time_to_train_s<30 days", lambda r: r["facility_power_w"] <= 3e8
     and r["time_to_train_s"] < 30 * 86400),
    ("model!=llama3.1-8b|llama3.1-70b,fits=true", lambda r: r["model"] == "llama3.1-405b" and r["fits"]),
])
def test_where_filters_before_the_front(cli, models, where, keep):
    front = cli("pareto", str(models), "--where", where, "--json").json()
    considered = [r for r in _rows(models) if r["meets_constraints"] and keep(r)]
    assert front and all(keep(r) for r in front)
    _check_fronts(front, considered, ["model", "training_tokens"], OBJECTIVES)


def test_text_table_is_readable_and_csv_has_the_group(cli, models, tmp_path):
    out = tmp_path / "front.csv"
    r = cli("pareto", str(models), "--out", str(out))
    assert r.code == 0 and r.stderr == ""
    for text in ("model", "training", "capex", " MW", " days", "$", "llama3.1-405b",
                 "fronts (by model, training_tokens)"):
        assert text in r.stdout, text
    assert "e+" not in r.stdout  # no raw floats
    with out.open() as f:
        rows = list(csv.DictReader(f))
    as_json = cli("pareto", str(models), "--json").json()
    assert [row["design_id"] for row in rows] == [row["design_id"] for row in as_json]
    assert rows[0]["group"] == as_json[0]["group"]
    assert set(as_json[0]) == set(_rows(models)[0]) | {"group"}  # whole rows, keys only extended


def _one_line_exit_2(r, option: str, fragment: str) -> None:
    assert r.code == 2, (r.code, r.stderr)
    assert r.stderr.startswith(f"stargate: error: {option}: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr and fragment in r.stderr, r.stderr


@pytest.mark.parametrize(("where", "fragment"), [
    ("colour=red", "'colour=red' is not allowed; expected a condition on a result column"),
    ("accelerator<gb200", "= or != on accelerator"),
    ("accelerator~gb200", "COLUMN OP VALUE"),
    ("accelerator=gb2000", "values of accelerator in this sweep: gb200, h100"),
    ("capex_usd<lots", "dollars like '$50B'"),
    ("gpus_built>=nan", "a finite number"),
    ("facility_power_w<5 GB", "a power like '1 GW'"),
    ("fits=maybe", "true or false"),
    ("model=", "COLUMN OP VALUE"),
    ("model=a||b", "non-empty values"),
    ("accelerator=gb200,", "empty condition"),
    ("model=" + "x" * 3000, "at most 2,000 characters"),
    (",".join(["fits=true"] * 40), "at most 32 conditions"),
    ("fits=true; DROP TABLE results", "true or false"),
    ("model=llama3.1-8b' OR '1'='1", "values of model"),
])
def test_bad_where_is_one_line_exit_2(cli, models, where, fragment):
    _one_line_exit_2(cli("pareto", str(models), "--where", where), "--where", fragment)


@pytest.mark.parametrize(("group_by", "fragment"), [
    ("colour", "'colour' is not allowed; expected none, or 1 to 8 result columns"),
    ("model,model", "each column once"),
    ("model,", "result columns"),
    (",".join(["model"] * 9), "1 to 8 result columns"),
    ("design_id", "a grouping into at most 50 groups (this one makes 120)"),
])
def test_bad_group_by_is_one_line_exit_2(cli, models, monkeypatch, group_by, fragment):
    monkeypatch.setattr("stargate.sweep.pareto.MAX_GROUPS", 50)
    _one_line_exit_2(cli("pareto", str(models), "--group-by", group_by), "--group-by", fragment)


def test_grouped_mask_matches_brute_force_per_group():
    rng = np.random.default_rng(7)
    values = rng.integers(0, 5, size=(400, 3)).astype(float)  # many ties and duplicates
    groups = rng.integers(0, 6, size=400)
    mask = grouped_pareto_mask(values, groups)
    for g in range(6):
        idx = np.flatnonzero(groups == g)
        v = values[idx]
        for j, i in enumerate(idx):
            dominated = any((v[m] <= v[j]).all() and ((v[m] < v[j]).any() or m < j) for m in range(len(v)) if m != j)
            assert mask[i] == (not dominated), (g, i)


def test_pareto_page_choices_errors_and_dashboard_link(models):
    from fastapi.testclient import TestClient

    from stargate.web.app import create_app

    app = create_app(models)
    try:
        c = TestClient(app)
        page = c.get("/pareto")
        assert page.status_code == 200 and 'href="/"' in page.text
        assert page.text.count('class="front"') == 6  # three models x two token budgets
        for m in MODELS:
            assert f"model {m} · training tokens 15 T" in page.text
        by_chip = c.get("/pareto", params={"objectives": "capex_usd,-mfu", "group_by": "accelerator"})
        assert by_chip.status_code == 200 and by_chip.text.count('class="front"') == 2
        assert "accelerator gb200" in by_chip.text and '<option value="mfu" selected>' in by_chip.text
        filtered = c.get("/pareto", params={"where": "accelerator=h100", "group_by": "none"})
        assert filtered.status_code == 200 and filtered.text.count('class="front"') == 1
        assert ">gb200<" not in filtered.text
        bad = c.get("/pareto", params={"where": "colour=red"})
        assert bad.status_code == 422 and "where: &#39;colour=red&#39; is not allowed" in bad.text
        assert c.get("/pareto", params={"where": "x" * 5000}).status_code == 422
        assert c.get("/pareto", params={"objectives": "beauty"}).status_code == 422
    finally:
        app.state.pool.close()
        app.state.pareto_pool.close()


def test_pareto_page_figure_has_a_trace_per_group(models):
    from stargate.web.fronts import fronts_page

    html = fronts_page(models, "state", "capex_usd,time_to_train_s", "model", None)["html"]
    figure = json.loads(html.split("const FIG = ", 1)[1].split(";", 1)[0])
    assert sorted(t["name"] for t in figure["data"]) == sorted(f"model {m}" for m in MODELS)
    assert figure["layout"]["yaxis"]["title"]["text"] == "time to train (days)"
