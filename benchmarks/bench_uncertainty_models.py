"""Speed of the ranges of ``stargate train`` and ``stargate infer``: ``--uncertainty 1000``.

Two timings per command: the whole command as a user runs it (a fresh process: interpreter start,
imports, catalog, the point answer, the model, 1,000 Latin hypercube samples through the chain, JSON
out), timed from outside, beside the same command without ``--uncertainty``; and, in process, the
ranges alone (building the uncertainty model and propagating the samples, the point answer already
computed). Numerical libraries are held to one thread.

The target is on the ranges themselves (the model and its samples, in process): the rest of what the
whole command adds is importing ``scipy.stats`` for its Latin hypercube (about a second on a loaded
2-core machine), which every command's ranges pay once.

Run: ``python benchmarks/bench_uncertainty_models.py [--runs 5] [--samples 1000]``; exit status 1 if a
median of the in-process ranges is over the target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

TARGET_S = 0.5
"""Most seconds the ranges of 1,000 samples may take in process (model built, samples through the chain)."""
TRAIN = ["train", "--model", "llama3.1-70b", "--accelerator", "h100", "--gpus", "1024", "--seq-len", "8192",
         "--global-batch", "1024"]
INFER = ["infer", "--model", "llama3.1-70b", "--accelerator", "h200", "--gpus", "8", "--input-tokens", "1024",
         "--output-tokens", "1024"]
INFER_BUDGET = ["infer", "--model", "mixtral-8x7b", "--accelerator", "h100", "--budget", "2e8", "--input-tokens", "2048",
                "--output-tokens", "512"]


def whole_command(args: list[str], runs: int) -> tuple[list[float], dict]:
    """Wall times of ``runs`` fresh processes (after one untimed run that writes the bytecode caches)."""
    cmd = [sys.executable, "-m", "stargate", *args, "--json"]
    subprocess.run(cmd, check=True, capture_output=True)
    times, answer = [], {}
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        answer = json.loads(out.stdout)
    return times, answer


def ranges_only(kind: str, samples: int, runs: int) -> float:
    """Median seconds of the model and its propagation alone, the point answer computed once beforehand."""
    from stargate.catalog import Catalog
    from stargate.serving import InferRequest, infer
    from stargate.training.context import Workload
    from stargate.training.job import TrainRequest, train
    from stargate.uncertainty.propagate import propagate
    from stargate.uncertainty.serving import infer_model
    from stargate.uncertainty.training import train_model

    cat = Catalog.load()
    if kind == "train":
        req = TrainRequest(model="llama3.1-70b", workload=Workload(accelerator="h100", gpus=1024, seq_len=8192,
                                                                   global_batch=1024))
        answer, build = train(req, cat), train_model
    elif kind == "infer":
        req = InferRequest(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens=1024, output_tokens=1024)
        answer, build = infer(req, cat), infer_model
    else:
        req = InferRequest(model="mixtral-8x7b", accelerator="h100", budget_usd=2e8, input_tokens=2048, output_tokens=512)
        answer, build = infer(req, cat), infer_model
    propagate(build(req, cat, answer), samples, 0)  # imports and caches
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        propagate(build(req, cat, answer), samples, 0)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args()
    print(f"{'command':22s} {'point s':>8s} {'ranges s':>9s} {'max s':>7s} {'in-process ranges s':>20s} {'inputs':>7s}")
    slow = []
    for kind, cmd in (("train", TRAIN), ("infer", INFER), ("infer-budget", INFER_BUDGET)):
        plain, _ = whole_command(cmd, args.runs)
        ranged, answer = whole_command([*cmd, "--uncertainty", str(args.samples)], args.runs)
        inside = ranges_only(kind, args.samples, args.runs)
        print(f"{kind:22s} {statistics.median(plain):8.3f} {statistics.median(ranged):9.3f} {max(ranged):7.3f} "
              f"{inside:20.3f} {len(answer['uncertainty']['inputs']):7d}")
        if inside >= TARGET_S:
            slow.append(kind)
    print(f"target: the ranges of {args.samples} samples under {TARGET_S} s in process: "
          f"{'met' if not slow else 'MISSED on ' + ', '.join(slow)}")
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()
