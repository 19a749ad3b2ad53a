"""Fit the training model's few constants on published runs and write them to the catalog.

Kernel times are measured (``stargate.kernels``); the seven constants of ``training/default`` in
``src/stargate/catalog/data/compute.yaml`` (``stargate.training.calibration.PARAMS``: overlap shares,
the eager launch floor, unfused memory traffic, the dropless-MoE fixed cost, the sustained clock) are
fitted jointly by robust least squares on the log error of tokens/s per GPU over every trust A/B row
with a measurement and a complete configuration. Nothing is fitted per row, source or chip. Prints
the in-sample figures and, with ``--cv``, the leave-one-source-out and leave-one-generation-out ones.

Run: ``python scripts/calibrate.py [RUNS.csv] [--cv]`` (needs ``pip install 'stargate[calibrate]'``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path

from stargate.training.calibration import PARAMS, catalog_with, cross_validate, fit, intervals
from stargate.training.validate import read_runs, summarize, validate_runs

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "stargate" / "catalog" / "data" / "compute.yaml"
RUNS = ROOT.parent / "shared" / "validation" / "published_runs.csv"


def write(x, stats: dict) -> None:
    """Rewrite the fitted fields and the provenance of ``training/default``."""
    text = DATA.read_text(encoding="utf-8")
    for p, value in zip(PARAMS, x, strict=True):
        if re.search(rf"\n    {p.field}: ", text):
            text = re.sub(rf"(\n    {p.field}: ).*", rf"\g<1>{value:.4g}", text, count=1)
        else:
            text = text.replace("\n    framework_overhead_bytes:", f"\n    {p.field}: {value:.4g}\n    framework_overhead_bytes:", 1)
    today = dt.date.today().isoformat()
    note = (f"fitted by scripts/calibrate.py on shared/validation/published_runs.csv ({stats['rows']} rows, trust A/B), "
            f"{today}; in-sample median abs error {100 * stats['median_abs_error']:.1f}%, p90 {100 * stats['p90_abs_error']:.1f}%")
    text = re.sub(r'(\n    source: ).*', rf'\g<1>"{note}"', text, count=1)
    text = re.sub(r'(\n    date: ).*', rf'\g<1>"{today}"', text, count=1)
    DATA.write_text(text, encoding="utf-8")


def write_intervals(bands: dict) -> None:
    """Write the leave-one-source-out prediction intervals into ``training/default``."""
    text = DATA.read_text(encoding="utf-8")
    flow = "{" + ", ".join(f"{k}: [{lo:.3f}, {hi:.3f}]" for k, (lo, hi) in bands.items()) + "}"
    line = f"\n    prediction_interval: {flow}"
    if "\n    prediction_interval:" in text:
        text = re.sub(r"\n    prediction_interval: .*", line.replace("\\", "\\\\"), text, count=1)
    else:
        text = text.replace("\n    framework_overhead_bytes:", line + "\n    framework_overhead_bytes:", 1)
    DATA.write_text(text, encoding="utf-8")


def table(title: str, summary: dict) -> None:
    o = summary["overall"]
    print(f"\n{title}: {o['rows']} rows, median {100 * o['median_abs_error']:.1f}%, p90 {100 * o['p90_abs_error']:.1f}%, "
          f"mean {100 * o['mean_error']:+.1f}%")
    groups(summary, ("by_source", "by_accelerator"))


def groups(summary: dict, keys: tuple[str, ...]) -> None:
    """Print median, p90 and mean error of each group of ``summary[key]`` for the ``keys``."""
    for key in keys:
        for name, s in summary[key].items():
            print(f"  {name:28s} {s['rows']:4d}  median {100 * s['median_abs_error']:5.1f}%  p90 {100 * s['p90_abs_error']:6.1f}%  "
                  f"mean {100 * s['mean_error']:+6.1f}%")


def fitted(params, x) -> None:
    """Print each fitted value with its bounds, flagged when it sits on one."""
    for p, v in zip(params, x, strict=True):
        flag = "  (on a bound)" if abs(v - p.low) < 1e-6 * max(1, abs(p.low)) or abs(v - p.high) < 1e-6 * max(1, p.high) else ""
        print(f"{p.field:28s} {v:.4g}  [{p.low:g}, {p.high:g}]{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", default=str(RUNS))
    parser.add_argument("--cv", action="store_true", help="also leave-one-source-out and leave-one-generation-out")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write the catalog")
    args = parser.parse_args()
    rows = [r for r in read_runs(args.runs) if r.get("trust") in ("A", "B")]
    x = fit(rows)
    fitted(PARAMS, x)
    summary = summarize(validate_runs(rows, catalog_with(x)))
    table("in-sample", summary)
    if not args.dry_run:
        write(x, summary["overall"])
    if args.cv:
        for by in ("source", "generation"):
            results = cross_validate(rows, by)
            table(f"leave-one-{by}-out", summarize(results))
            if by == "source":
                bands = intervals(rows, results)
                print("prediction intervals (measured/predicted, p10-p90):", bands)
                if not args.dry_run:
                    write_intervals(bands)


if __name__ == "__main__":
    main()
