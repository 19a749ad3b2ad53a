"""Check the serving model on measured runs that are not in ``inference_runs.csv``: InferenceMAX.

SemiAnalysis' InferenceMAX publishes its nightly runs as ``agg_bmk.json`` files (GitHub Actions
artifacts): one entry per model, chip, engine, precision, prompt and output length (fixed, random
tokens), tensor/expert parallelism and client concurrency, with the measured output tokens/s per GPU
and mean time per output token. This script predicts every single-node, aggregated entry with
``stargate.inference`` at the entry's concurrency on one engine of ``tp`` GPUs, and prints the error
of tokens/s per GPU and of the mean TPOT by chip and model, and the throughput error again without the
runs whose mean TTFT shows a stall (:func:`stalled`). Nothing here is fitted.

Usage::

    python benchmarks/serving_inferencemax.py RAW_DIR     # a folder holding run_*/agg_bmk.json

The files used for the figures in ``docs/calibration.md`` are the 37 runs of 2025-12-17 to 2026-01-28
collected under ``reconcile/sources/inferencemax/raw`` of github.com/gminneci/mantile (commit 72ff84e).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from stargate.catalog import Catalog
from stargate.inference.context import resolve_serving
from stargate.inference.request import ServingRequest
from stargate.inference.search import points, raw_points
from stargate.inference.validate import family
from stargate.training.presets import preset

CHIPS = {"b200": "b200-180g", "b200-trt": "b200-180g", "h100": "h100-sxm-80g", "h200": "h200-141g",
         "gb200": "gb200-186g", "mi355x": "mi355x-288g", "mi325x": "mi325x-256g", "mi300x": "mi300x-192g"}
ENGINES = {"trt": "trtllm", "dynamo-trt": "trtllm", "vllm": "vllm", "sglang": "sglang", "dynamo-sglang": "sglang",
           "atom": "other"}


def _model(name: str) -> str | None:
    low = name.lower()
    if "gpt-oss-120b" in low:
        return "gpt-oss-120b"
    if "deepseek-r1" in low:
        return "deepseek-v3"  # DeepSeek-R1 has DeepSeek-V3's architecture
    return None


def entries(raw_dir: Path) -> list[dict]:
    """Every entry of every ``agg_bmk.json`` under ``raw_dir``, duplicates (same configuration) kept once."""
    seen, out = set(), []
    for f in sorted(raw_dir.glob("**/agg_bmk.json")):
        for e in json.loads(f.read_text(encoding="utf-8")):
            key = tuple(e.get(k) for k in ("model", "hw", "framework", "precision", "isl", "osl", "tp", "ep",
                                           "dp_attention", "conc", "spec_decoding", "disagg"))
            if key not in seen:
                seen.add(key)
                out.append(e)
    return out


def predict(e: dict, cat: Catalog, cache: dict) -> tuple[float, float, float] | None:
    """(tokens/s per GPU, mean TPOT, mean TTFT) predicted for one entry, or None when it is out of scope."""
    chip, model, engine = CHIPS.get(str(e.get("hw")).split("-amd")[0]), _model(str(e.get("model"))), ENGINES.get(e.get("framework"))
    if chip is None or model is None or engine is None or e.get("disagg") or e.get("is_multinode"):
        return None
    tp = int(e["tp"])
    req = ServingRequest(accelerator=chip, gpus=tp, input_tokens=float(e["isl"]), output_tokens=float(e["osl"]),
                         precision="fp4" if e["precision"] == "fp4" else "fp8", framework=engine,
                         disaggregated="no", replica_gpus=tp, concurrency=int(e["conc"]), software_year=2026.0,
                         speculative_tokens=0 if e.get("spec_decoding") in (None, "none") else 3)
    m = preset(model)
    key = (model, req)
    ctx = resolve_serving(m, req, cat)
    if key not in cache:
        cache[key] = raw_points(ctx)
    p = points(ctx, cache[key])
    i = int(np.argmax(p.tokens_per_s_per_gpu))
    return float(p.tokens_per_s_per_gpu[i]), float(p.tpot_s[i]), float(p.ttft_s[i])


PROMPTS_PER_CLIENT = 10
"""InferenceMAX sends ``10 × concurrency`` prompts per run (``--num-prompts $(( CONC * 10 ))`` in every
``benchmarks/dsr1_*.sh`` and ``gptoss_*.sh`` of SemiAnalysisAI/InferenceX, e.g. at b0c4ed21b, 2026-01-22)."""
STALL_FACTOR = 10.0
"""A run is flagged as stalled when its measured mean TTFT exceeds this many times the most its own
workload explains (:func:`ttft_bound_s`): an order of magnitude, so that the model's own TTFT errors (the
engines' scheduler intervals, chunking) are not taken for stalls."""


def ttft_bound_s(conc: int, ttft_pred_s: float) -> float:
    """The mean TTFT a closed-loop run of ``conc`` clients can show without a stall.

    Every client's first prompt arrives at once, so the first wave's ``k``-th prompt waits for up to ``k``
    prefills: ``(conc + 1) / 2`` of them in the mean. Later prompts arrive spread out (each client sends its
    next one when the last ends) and wait for about one. Over :data:`PROMPTS_PER_CLIENT` prompts per client
    that is ``ttft × (1 + (conc - 1) / (2 × prompts per client))``.

    >>> round(ttft_bound_s(1, 0.1), 3), round(ttft_bound_s(21, 0.1), 3)
    (0.1, 0.2)
    """
    return ttft_pred_s * (1.0 + (conc - 1) / (2.0 * PROMPTS_PER_CLIENT))


def stalled(e: dict, ttft_pred_s: float) -> bool:
    """Whether the entry's measured mean TTFT is longer than its clients' own queue explains.

    In a closed loop the engine admits every client (InferenceMAX's servers allow at least as many running
    requests as the concurrency they are run at); a first token waits for the prompts ahead of it. A mean TTFT
    more than :data:`STALL_FACTOR` times :func:`ttft_bound_s` is a stall the workload does not cause (warm-up
    compilation in a short run, a scheduler stall), which depresses the measured throughput through the clients'
    idle time. In the runs of the figures it is 5 to 10 s on DeepSeek-R1 under SGLang on B200, at 1k-token
    prompts where the predicted TTFT is 60 ms.
    """
    measured = e.get("mean_ttft")
    return bool(measured) and float(measured) > STALL_FACTOR * ttft_bound_s(int(e["conc"]), ttft_pred_s)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw_dir", type=Path)
    args = ap.parse_args()
    cat, cache = Catalog.load(), {}
    groups: dict[tuple[str, str], list[tuple[float, float, bool]]] = defaultdict(list)
    skipped = 0
    for e in entries(args.raw_dir):
        got = predict(e, cat, cache)
        if got is None or not e.get("output_tput_per_gpu"):
            skipped += 1
            continue
        err = got[0] / float(e["output_tput_per_gpu"]) - 1.0
        tpot_err = got[1] / float(e["mean_tpot"]) - 1.0 if e.get("mean_tpot") else math.nan
        groups[(_model(e["model"]) or "", CHIPS[str(e["hw"]).split("-amd")[0]])].append((err, tpot_err, stalled(e, got[2])))
    allr = [x for v in groups.values() for x in v]
    print(f"entries predicted: {len(allr)}, out of scope (multi-node, disaggregated, other models): {skipped}; "
          f"stalled (mean TTFT > {STALL_FACTOR:g} x the closed loop's own queue): {sum(x[2] for x in allr)}")
    print(f"{'model':14s} {'chip':18s} {'rows':>5s} {'median |err|':>13s} {'p90 |err|':>10s} {'mean err':>9s} "
          f"{'TPOT median |err|':>18s} {'not stalled: rows':>18s} {'median':>7s} {'p90':>7s}")
    fams: dict[tuple[str, str], list[tuple[float, float, bool]]] = defaultdict(list)
    for (_, chip), v in groups.items():
        fams[("family", family(chip))] += v
    for (mod, chip), v in sorted(groups.items()) + sorted(fams.items()) + [(("all", ""), allr)]:
        e = np.abs([x[0] for x in v])
        t = np.abs([x[1] for x in v if math.isfinite(x[1])])
        ok = np.abs([x[0] for x in v if not x[2]])
        print(f"{mod:14s} {chip:18s} {len(v):5d} {np.median(e):13.1%} {np.percentile(e, 90):10.1%} "
              f"{np.mean([x[0] for x in v]):+9.1%} {np.median(t) if len(t) else math.nan:18.1%} {len(ok):18d} "
              f"{np.median(ok) if len(ok) else math.nan:7.1%} {np.percentile(ok, 90) if len(ok) else math.nan:7.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
