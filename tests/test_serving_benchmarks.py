"""The serving-benchmark catalog section and the serving parts: every benchmark and accelerator id of
the measured serving runs resolves, and the workload numbers agree with the runs' own logs.

Tests marked ``runs`` read ``../shared/validation/inference_runs.csv`` and are skipped without it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from stargate.catalog import Catalog
from stargate.catalog.schema import Figure
from stargate.errors import InputError

RUNS = Path(__file__).resolve().parents[2] / "shared" / "validation" / "inference_runs.csv"
runs = pytest.mark.skipif(not RUNS.is_file(), reason="../shared/validation/inference_runs.csv is absent")


def read_runs() -> list[dict[str, str]]:
    with RUNS.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@runs
def test_every_benchmark_of_the_runs_has_an_entry(catalog):
    ids = {r["benchmark"] for r in read_runs()}
    assert len(ids) == 9
    for bench in ids:
        assert catalog.serving_benchmark(bench).id == bench


@runs
def test_every_accelerator_of_the_runs_resolves(catalog):
    for acc in {r["accelerator"] for r in read_runs()}:
        assert catalog.accelerator(acc).id in (acc, "rubin-288g")  # vr200-288g is an alias of rubin-288g


@runs
def test_latency_limits_match_every_logged_run(catalog):
    # MLPerf v4.1-v6.0 rows carry the limits printed in each run's log; the catalog takes them from
    # loadgen/mlperf.conf. They must agree on every row.
    checked = 0
    for r in read_runs():
        if not r["ttft_limit_s"]:
            continue
        b = catalog.serving_benchmark(r["benchmark"])
        ttft, tpot = ((b.server_ttft_p99_s, b.server_tpot_p99_s) if r["scenario"] == "server"
                      else (b.interactive_ttft_p99_s, b.interactive_tpot_p99_s))
        assert ttft.value == pytest.approx(float(r["ttft_limit_s"])), r["run_id"]
        assert tpot.value == pytest.approx(float(r["tpot_limit_s"])), r["run_id"]
        checked += 1
    assert checked > 200


@runs
def test_reference_output_lengths_match_the_runs(catalog):
    for r in read_runs():
        b = catalog.serving_benchmark(r["benchmark"])
        if r["output_tokens_mean"]:
            assert b.output_tokens_mean.value == pytest.approx(float(r["output_tokens_mean"]), rel=1e-6)
        if r["input_tokens_mean"]:  # fixed-length runs: every prompt within the benchmark's maximum
            assert b.lengths_fixed_per_run
            assert float(r["input_tokens_mean"]) <= b.input_tokens_max.value


def test_mlperf_maxima_from_the_rules(catalog):
    # inference_rules.adoc, ingress bandwidth table: max_seq_len per benchmark.
    expect = {"llama2-70b-99.9": 1024, "mixtral-8x7b": 2048, "llama3.1-405b": 20000, "llama3.1-8b": 2048,
              "deepseek-r1": 3136, "gpt-oss-120b": 15330}
    for bench, n in expect.items():
        b = catalog.serving_benchmark(bench)
        assert b.input_tokens_max.value == n and b.input_tokens_max.confidence == "documented"
        assert b.output_tokens_mean.value <= b.output_tokens_max.value


def test_every_figure_is_sourced(catalog):
    for b in catalog.entries("serving_benchmarks"):
        for name in type(b).model_fields:
            fig = getattr(b, name)
            if isinstance(fig, Figure):
                assert len(fig.source) > 10 and fig.date[:2] == "20", (b.id, name)
                assert (fig.value is None) == (fig.confidence == "not_found"), (b.id, name)


def test_a_null_value_must_say_not_found():
    with pytest.raises(ValueError, match="not_found"):
        Figure(value=None, source="nowhere", date="2026", confidence="estimate")
    with pytest.raises(ValueError, match="not_found"):
        Figure(value=3.0, source="somewhere", date="2026", confidence="not_found")


def test_overlay_replaces_a_figure_and_adds_a_benchmark():
    mine = {"id": "my-chat", "name": "In-house chat trace", "suite": "mlperf", "model": "x/y", "dataset": "trace",
            "source": "our logs", "date": "2026-11",
            **{k: {"value": v, "source": "our logs", "date": "2026-11", "confidence": "measured"}
               for k, v in (("input_tokens_mean", 812), ("input_tokens_max", 8192), ("output_tokens_mean", 240),
                            ("output_tokens_max", 2048))}}
    fig = {"value": 600, "source": "our tokenizer over the dataset", "date": "2026-11", "confidence": "measured"}
    cat = Catalog.load().overlaid({"serving_benchmarks": [{"id": "llama2-70b-99", "input_tokens_mean": fig}, mine]},
                                  "mine")
    assert cat.serving_benchmark("llama2-70b-99").input_tokens_mean.value == 600
    assert cat.serving_benchmark("llama2-70b-99").output_tokens_mean.value == 294.45  # untouched
    assert cat.serving_benchmark("my-chat").input_tokens_mean.confidence == "measured"


def test_unknown_benchmark_is_an_input_error(catalog):
    with pytest.raises(InputError) as e:
        catalog.serving_benchmark("llama2-70")
    assert e.value.field == "serving_benchmark" and "llama2-70b" in str(e.value)


def test_catalog_show_prints_a_benchmark(cli):
    r = cli("catalog", "show", "serving_benchmarks/deepseek-r1", "--json")
    assert r.code == 0
    body = r.json()
    assert body["output_tokens_mean"]["value"] == pytest.approx(3886.2274)
    assert body["interactive_tpot_p99_s"]["value"] == pytest.approx(0.015)


def test_serving_parts_datasheet_figures(catalog):
    # H100 NVL / H200 NVL datasheets: 1,671 TFLOP/s bf16 with 2:4 sparsity = 835.5 dense.
    for acc in ("h100-nvl-94g", "h200-nvl-141g"):
        assert catalog.accelerator(acc).peak_flops_per_s["bf16"] == pytest.approx(1671e12 / 2, rel=1e-3)
    # L40S datasheet: 362.05 bf16 dense, 48 GB GDDR6 at 864 GB/s, 350 W, no NVLink.
    l40s = catalog.accelerator("l40s")
    assert l40s.peak_flops_per_s["bf16"] == pytest.approx(362.05e12) and l40s.hbm_bw_bytes_per_s == 864e9
    assert l40s.scale_up_domain == 1
    # MI350P is half an MI350X (STH launch table: MXFP8 2.3 vs 4.6 PFLOPS, 4 vs 8 TB/s, 144 vs 288 GB).
    p, x = catalog.accelerator("mi350p"), catalog.accelerator("mi350x")
    for field in ("hbm_bytes", "hbm_bw_bytes_per_s"):
        assert getattr(p, field) * 2 == getattr(x, field)
    assert p.peak_flops_per_s["fp8"] * 2 == pytest.approx(x.peak_flops_per_s["fp8"])
    # The MLPerf "VR-288GB" chip is the catalog's Rubin package, not a second entry.
    assert catalog.accelerator("vr200-288g") is catalog.accelerator("rubin")


def test_a_mean_above_its_maximum_is_refused():
    fig = {"value": 5000, "source": "a typo", "date": "2026", "confidence": "estimate"}
    with pytest.raises(InputError) as e:
        Catalog.load().overlaid({"serving_benchmarks": [{"id": "llama2-70b-99", "output_tokens_mean": fig}]}, "mine")
    assert "output_tokens_max" in str(e.value)
