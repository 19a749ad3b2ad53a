"""Speed of ``stargate infer``: the whole command, as a user runs it, on the three reference chips.

Target: ``stargate infer --model llama3.1-70b --accelerator CHIP --gpus 8 --input-tokens 1024
--output-tokens 1024 --json`` answers, with its frontier, in under 1 s on H200, GB200 and MI355X.
Each run is a fresh process (interpreter start, imports, catalog, model, serving search, design and
economics, JSON out), timed from outside; the in-process time of :func:`stargate.serving.infer` (the
work after the imports) is shown beside it. Numerical libraries are held to one thread.

Run: ``python benchmarks/bench_infer.py [--runs 7]``; exit status 1 if a median is over the target.
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

CHIPS = ("h200", "gb200", "mi355x")
TARGET_S = 1.0


def command(chip: str) -> list[str]:
    return [sys.executable, "-m", "stargate", "infer", "--model", "llama3.1-70b", "--accelerator", chip, "--gpus", "8",
            "--input-tokens", "1024", "--output-tokens", "1024", "--json"]


def whole_command(chip: str, runs: int) -> tuple[list[float], dict]:
    """Wall times of ``runs`` fresh processes (after one untimed run that writes the bytecode caches)."""
    subprocess.run(command(chip), check=True, capture_output=True)
    times, answer = [], {}
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(command(chip), check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        answer = json.loads(out.stdout)
    return times, answer


def in_process(chip: str, runs: int) -> float:
    """Median time of the answer itself, imports and catalog already loaded (first call not counted)."""
    from stargate.catalog import Catalog
    from stargate.serving import InferRequest, infer

    cat = Catalog.load()
    request = InferRequest(model="llama3.1-70b", accelerator=chip, gpus=8, input_tokens=1024, output_tokens=1024)
    infer(request, cat)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        infer(request, cat)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    print(f"{'chip':8s} {'median s':>9s} {'max s':>7s} {'in-process s':>13s} {'frontier':>9s} {'tok/s/GPU':>10s}")
    slow = []
    for chip in CHIPS:
        times, answer = whole_command(chip, args.runs)
        med = statistics.median(times)
        print(f"{chip:8s} {med:9.3f} {max(times):7.3f} {in_process(chip, args.runs):13.3f} "
              f"{len(answer['frontier']):9d} {answer['tokens_per_s_per_gpu']:10,.0f}")
        if med >= TARGET_S or not answer["frontier"]:
            slow.append(chip)
    print(f"target: under {TARGET_S:.0f} s each, with the frontier: {'met' if not slow else 'MISSED on ' + ', '.join(slow)}")
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()
