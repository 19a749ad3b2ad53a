"""Speed of ``--uncertainty``: the ranges of every command that has them, and of ``stargate sensitivity``.

Targets (docs/uncertainty.md, "Speed"): ``design --uncertainty 10000`` under 1 s; ``plan --uncertainty 1000``
under 30 s on 2 cores, on Dask when asked; the ranges of ``train`` and ``infer`` (1,000 samples) under 0.5 s
in process. Two timings each: the whole command as a user runs it (a fresh process: start-up, imports,
catalog, the point answer, the samples through the chain, JSON out) beside the same command without
``--uncertainty``; and, in process, the ranges alone (the point answer computed beforehand). Numerical
libraries are held to one thread.

Run: ``python benchmarks/bench_uncertainty.py [design] [models] [plan] [--runs 3] [--dask-local 2]``
(all three parts by default; ``--dask-local N`` adds the plan's ranges on a local Dask cluster of N workers,
checked identical to the in-process ones). Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from bench_design import _time  # the designer's benchmark's timer (this folder is on the path)

DESIGN_SAMPLES, MODEL_SAMPLES = 10_000, 1_000
TARGETS_S = {"design": 1.0, "models": 0.5, "plan": 30.0}
"""design: the whole command at 10,000 samples; models: train/infer ranges of 1,000 samples in process;
plan: the whole command at 1,000 samples."""
COMMANDS = {
    "design": {"design --gpus 100k (h100)": ["design", "--accelerator", "h100", "--gpus", "100k"],
               "design --budget 90e9..110e9 (gb200)": ["design", "--accelerator", "gb200", "--budget", "90e9..110e9"],
               "fabric --gpus 100k": ["fabric", "--gpus", "100k"]},
    "models": {"train 70B on 1,024 H100": ["train", "--model", "llama3.1-70b", "--accelerator", "h100", "--gpus", "1024",
                                           "--seq-len", "8192", "--global-batch", "1024"],
               "infer 70B on 8 H200": ["infer", "--model", "llama3.1-70b", "--accelerator", "h200", "--gpus", "8",
                                       "--input-tokens", "1024", "--output-tokens", "1024"],
               "infer Mixtral on $200M of H100": ["infer", "--model", "mixtral-8x7b", "--accelerator", "h100", "--budget",
                                                  "2e8", "--input-tokens", "2048", "--output-tokens", "512"]},
    "plan": {"plan (built-in, five phases)": ["plan"]},
}
SAMPLES = {"design": DESIGN_SAMPLES, "models": MODEL_SAMPLES, "plan": MODEL_SAMPLES}


def whole_command(args: list[str], runs: int) -> float:
    """Median wall time of ``runs`` fresh processes of ``stargate ARGS --json`` (after one untimed run)."""
    cmd = [sys.executable, "-m", "stargate", *args, "--json"]
    subprocess.run(cmd, check=True, capture_output=True)
    return statistics.median(_time(lambda: subprocess.run(cmd, check=True, capture_output=True), runs))


def in_process(part: str, runs: int) -> dict[str, float]:
    """Median seconds of the ranges alone (model built, samples propagated), the point answers computed once."""
    from stargate.catalog import Catalog
    from stargate.fabric.design import FabricRequest
    from stargate.scenario import DesignRequest
    from stargate.serving import InferRequest, infer
    from stargate.training.context import Workload
    from stargate.training.job import TrainRequest, train
    from stargate.uncertainty.design import design_answer, fabric_model
    from stargate.uncertainty.propagate import propagate
    from stargate.uncertainty.serving import infer_model
    from stargate.uncertainty.training import train_model

    cat = Catalog.load()
    if part == "design":
        calls = {"design 100,000 H100": lambda: design_answer(DesignRequest(accelerator="h100", gpus=100_000), cat,
                                                              samples=DESIGN_SAMPLES),
                 "design $100B of GB200": lambda: design_answer(DesignRequest(accelerator="gb200", budget_usd=100e9), cat,
                                                                samples=DESIGN_SAMPLES),
                 "fabric 100,000 H100": lambda: propagate(fabric_model(FabricRequest(gpus=100_000), cat), DESIGN_SAMPLES)}
    else:
        tr = TrainRequest(model="llama3.1-70b", workload=Workload(accelerator="h100", gpus=1024, seq_len=8192,
                                                                  global_batch=1024))
        inf = InferRequest(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens=1024, output_tokens=1024)
        t_ans, i_ans = train(tr, cat), infer(inf, cat)
        calls = {"train": lambda: propagate(train_model(tr, cat, t_ans), MODEL_SAMPLES),
                 "infer": lambda: propagate(infer_model(inf, cat, i_ans), MODEL_SAMPLES)}
    return {name: statistics.median(_time(fn, runs + 1)[1:]) for name, fn in calls.items()}


def plan_ranges_speed(runs: int, dask_local: int) -> None:
    """The plan's ranges alone at 1,000 to 1,000,000 samples, in process and (with ``dask_local``) on Dask."""
    from stargate.catalog import Catalog
    from stargate.plan import builtin_scenario, run_plan
    from stargate.uncertainty.plan import plan_models, plan_ranges

    cat, sc = Catalog.load(), builtin_scenario()
    plan = run_plan(sc, cat)
    models = plan_models(sc, cat, plan)
    print(f"  the plan's ranges alone (5 phases, {sum(len(m.inputs) for m in models)} inputs):")
    for n in (1_000, 10_000, 100_000, 1_000_000):
        here, t = _timed(lambda n=n: plan_ranges(sc, cat, plan, n, models=models))
        line = f"    {n:>9,} samples: in process {t:7.2f} s"
        if dask_local:
            there, td = _timed(lambda n=n: plan_ranges(sc, cat, plan, n, models=models, dask_local=dask_local))
            same = [p.ranges for p in here.phases] == [p.ranges for p in there.phases] and here.totals == there.totals
            line += f", on {dask_local} local Dask workers {td:7.2f} s (cluster start-up included; identical: {same})"
        print(line)


def _timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(COMMANDS)} (default: all)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dask-local", type=int, default=0)
    args = ap.parse_args()
    if set(args.parts) - set(COMMANDS):
        ap.error(f"parts are {', '.join(COMMANDS)}")
    print(f"{os.cpu_count()} CPUs")
    missed = []
    for part in args.parts or list(COMMANDS):
        n = SAMPLES[part]
        print(f"{part}: whole commands, --uncertainty {n:,} --json (median of {args.runs})")
        for name, cmd in COMMANDS[part].items():
            ranged, plain = whole_command([*cmd, "--uncertainty", str(n)], args.runs), whole_command(cmd, args.runs)
            print(f"  {name}: {ranged:.3f} s (without ranges {plain:.3f} s)")
            if part != "models" and ranged >= TARGETS_S[part]:
                missed.append(name)
        if part == "plan":
            print(f"  sensitivity (Sobol, 512 base samples): {whole_command(['sensitivity'], args.runs):.3f} s")
            plan_ranges_speed(args.runs, args.dask_local)
            continue
        for name, seconds in in_process(part, args.runs).items():
            print(f"  in process, the ranges alone: {name} {seconds:.3f} s")
            if part == "models" and seconds >= TARGETS_S[part]:
                missed.append(name)
    print("targets: " + ("met" if not missed else "MISSED on " + ", ".join(missed)))
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
