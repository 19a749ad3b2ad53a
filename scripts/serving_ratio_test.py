"""Where the serving model's largest errors come from: the server/offline ratio test and the tail's make-up.

The same system in the same MLPerf round often submitted an offline run and a server (or interactive) run.
The ratio of their measured throughputs says what the scenario's latency limits cost on that system, and it
does not depend on the kernel times; the model predicts the same ratio. Predicted / measured above 1 means
the model charges the limits too little. The script prints, with the shipped constants, on the trust-A rows
of ``shared/validation/inference_runs.csv``:

- the ratio table by scenario and benchmark (DeepSeek-R1 also by round);
- the rows above the p90 of |error|: by scenario, model, size and deployment, and for the server and
  interactive ones with an offline sibling, whether the ratio or the offline error carries most of it;
- measured and predicted p99 latencies over their limits (the rows that log them);
- groups of submissions of the same system, round, benchmark and scenario whose measurements spread by
  more than 1.3x (what no model of the file's inputs can follow).

Run: ``python scripts/serving_ratio_test.py [RUNS.csv]`` (``docs/calibration.md``, "Serving", uses its output).
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from stargate.inference.validate import ServingRow, read_runs, validate_serving

RUNS = Path(__file__).resolve().parents[1].parent / "shared" / "validation" / "inference_runs.csv"
LIMITED = ("server", "interactive")


def _bench(row: dict[str, str]) -> str:
    return row.get("benchmark", "").replace("-99.9", "").replace("-99", "")


def _system(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row.get(k, "") for k in ("source_id", "submitter", "system_name", "benchmark", "precision", "num_gpus"))


def _float(row: dict[str, str], key: str) -> float:
    try:
        return float(row.get(key) or "nan")
    except ValueError:
        return math.nan


def siblings(scored: list[tuple[dict[str, str], ServingRow]]) -> dict[tuple[str, ...], dict[str, ServingRow]]:
    """The rows of each system, round, benchmark, precision and size, by scenario."""
    out: dict[tuple[str, ...], dict[str, ServingRow]] = defaultdict(dict)
    for row, res in scored:
        out[_system(row)][row["scenario"]] = res
    return out


def ratio_table(scored: list[tuple[dict[str, str], ServingRow]]) -> None:
    """Print measured and predicted server/offline and interactive/offline ratios of the same systems."""
    groups: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for key, by in siblings(scored).items():
        off = by.get("offline")
        for sc in LIMITED:
            if off is None or sc not in by:
                continue
            m = by[sc].measured_tokens_per_s_per_gpu / off.measured_tokens_per_s_per_gpu
            p = by[sc].predicted_tokens_per_s_per_gpu / off.predicted_tokens_per_s_per_gpu
            bench = key[3].replace("-99.9", "").replace("-99", "")
            names = [bench, "all"] + ([f"{bench} {key[0].rsplit('_', 1)[-1]}"] if bench == "deepseek-r1" else [])
            for name in names:
                groups[(sc, name)].append((m, p))
    print("| scenario | benchmark | pairs | measured ratio | predicted ratio | predicted / measured: median | P10 | P90 |")
    print("|---|---|---|---|---|---|---|---|")
    for (sc, name), v in sorted(groups.items(), key=lambda kv: (kv[0][0] != "server", kv[0][1] == "all", kv[0][1])):
        a = np.array(v)
        q = a[:, 1] / a[:, 0]
        print(f"| {sc} | {name} | {len(a)} | {np.median(a[:, 0]):.2f} | {np.median(a[:, 1]):.2f} | {np.median(q):.2f} "
              f"| {np.percentile(q, 10):.2f} | {np.percentile(q, 90):.2f} |")


def tail(scored: list[tuple[dict[str, str], ServingRow]]) -> None:
    """Print the make-up of the rows above the p90 of |error|, and which side carries the limited rows' error."""
    errs = np.abs([r.error for _, r in scored])
    p90 = float(np.percentile(errs, 90))
    over = [(row, r) for row, r in scored if abs(r.error) > p90]
    print(f"\n{len(over)} rows above the p90 ({100 * p90:.1f}%), {sum(r.error > 0 for _, r in over)} over-predicted")
    splits = {"scenario": lambda row, r: row["scenario"], "benchmark": lambda row, r: _bench(row),
              "GPUs": lambda row, r: "8 or fewer" if int(row["num_gpus"]) <= 8 else "more than 8",
              "deployment": lambda row, r: "disaggregated" if "disagg" in r.deployment else "aggregated",
              "engine": lambda row, r: row.get("framework", "")}
    for name, key in splits.items():
        total: dict[str, int] = defaultdict(int)
        for row, r in scored:
            total[key(row, r)] += 1
        counts = ", ".join(f"{g} {sum(key(row, r) == g for row, r in over)}/{n}" for g, n in sorted(total.items()))
        print(f"  by {name}: {counts}")
    fam = siblings(scored)
    carried: dict[str, int] = defaultdict(int)
    for row, r in over:
        off = fam[_system(row)].get("offline")
        if row["scenario"] not in LIMITED or off is None:
            continue
        side = abs(math.log1p(r.error) - math.log1p(off.error)) > abs(math.log1p(off.error))
        carried["ratio" if side else "offline"] += 1
        print(f"  {row['run_id']} {row['source_id']} {_bench(row)} {row['scenario']} {row['accelerator']} x{row['num_gpus']}: "
              f"{r.error:+.2f}, offline sibling {off.error:+.2f}")
    print(f"  limited rows with an offline sibling: most of the error in the ratio {carried['ratio']}, "
          f"in the offline prediction {carried['offline']}")


def latencies(scored: list[tuple[dict[str, str], ServingRow]]) -> None:
    """Print medians of measured and predicted p99 TTFT and TPOT over their limits, and measured over predicted."""
    groups: dict[tuple[str, str], list[list[float]]] = defaultdict(list)
    for row, r in scored:
        ttft, tpot = _float(row, "measured_ttft_s"), _float(row, "measured_tpot_s")
        if row["scenario"] in LIMITED and ttft > 0:
            lt, lp = _float(row, "ttft_limit_s"), _float(row, "tpot_limit_s")
            groups[(_bench(row), row["scenario"])].append(
                [ttft / lt, r.predicted_ttft_s / lt, tpot / lp, r.predicted_tpot_s / lp, ttft / r.predicted_ttft_s,
                 tpot / r.predicted_tpot_s])
    print("\n| benchmark | scenario | rows | p99 TTFT / limit: measured, predicted | p99 TPOT / limit: measured, predicted "
          "| measured / predicted p99 TTFT, TPOT |")
    print("|---|---|---|---|---|---|")
    for (b, sc), v in sorted(groups.items()):
        m = np.nanmedian(np.array(v), axis=0)
        print(f"| {b} | {sc} | {len(v)} | {m[0]:.2f}, {m[1]:.2f} | {m[2]:.2f}, {m[3]:.2f} | {m[4]:.2f}, {m[5]:.2f} |")


def spread(scored: list[tuple[dict[str, str], ServingRow]]) -> None:
    """Print the groups of submissions of one system, round, benchmark and scenario that spread by over 1.3x."""
    groups: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for row, r in scored:
        key = (row["source_id"], row["accelerator"], row["num_gpus"], _bench(row), row["scenario"], row["precision"],
               row.get("framework", ""))
        groups[key].append(r.measured_tokens_per_s_per_gpu)
    print("\nsame system, round, benchmark and scenario, measured max / min > 1.3:")
    for key, v in sorted(groups.items(), key=lambda kv: -max(kv[1]) / min(kv[1])):
        if len(v) > 1 and max(v) / min(v) > 1.3:
            print(f"  {' '.join(key)}: {len(v)} rows, {min(v):,.0f} to {max(v):,.0f} tokens/s per GPU ({max(v) / min(v):.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", default=str(RUNS))
    rows = [r for r in read_runs(parser.parse_args().runs) if r.get("trust") == "A"]
    scored = [(row, r) for row, r in zip(rows, validate_serving(rows), strict=True)
              if not r.skipped and math.isfinite(r.measured_tokens_per_s_per_gpu)]
    ratio_table(scored)
    tail(scored)
    latencies(scored)
    spread(scored)


if __name__ == "__main__":
    main()
