"""Fit the serving model's few constants on measured runs and write them to ``inference/calibration.yaml``.

The constants of :data:`stargate.inference.calibration.PARAMS` (TensorRT-LLM's engine step, the kernel and
borrowed-chip factors, the yearly software speedup; with ``--maturity`` also the new-architecture maturity slowdown and its
time, :data:`~stargate.inference.calibration.MATURITY`, not shipped) are fitted jointly by robust least squares,
then a simplex polish, on the log error of tokens/s per GPU over the trust-A rows of ``shared/validation/inference_runs.csv``. Prints the in-sample figures; with ``--cv`` also the
leave-one-source-out ones, and writes their 10th-90th percentile band of measured / predicted
(``prediction_interval``: dense, MoE and all rows), which :func:`stargate.inference.calibration.prediction_interval`
serves. ``--profile 0,1,2`` prints the cost with the held constant (:data:`~stargate.inference.calibration.HELD`,
the other engines' step) at those milliseconds and the fitted ones refitted at each, and writes nothing: a flat
profile is why it is held, not fitted.

Run: ``python scripts/calibrate_serving.py [RUNS.csv] [--cv] [--maturity] [--dry-run] [--profile MS,...]``
(needs ``pip install 'stargate[calibrate]'``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from calibrate import fitted, groups  # the training script, beside this one

from stargate.inference.calibration import (
    HELD,
    MATURITY,
    PARAMS,
    SHARED,
    constants_with,
    cross_validate,
    fit,
    intervals,
    profile,
)
from stargate.inference.validate import read_runs, summarize_serving, validate_serving

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "stargate" / "inference" / "calibration.yaml"
RUNS = ROOT.parent / "shared" / "validation" / "inference_runs.csv"


def _set(text: str, key: str, value: float) -> str:
    """``text`` with the value of ``key`` (``a.b`` nested one level) replaced, its comment kept."""
    head, _, tail = key.partition(".")
    indent, name = ("  ", tail) if tail else ("", head)
    pattern = rf"(?m)^({indent}{re.escape(name)}:\s*)([-+0-9.e]+ *)"

    def repl(m: re.Match) -> str:  # the new value in the old one's width: the comments stay aligned
        # five significant digits, so that the written constants reproduce the fit's figures: its in-sample p90
        # sits within a few hundredths of a point of 25%, and rounding to four digits moves it by 0.03 points
        return m.group(1) + f"{value:.5g}".ljust(len(m.group(2)) - 1) + " "

    start = text.index(f"\n{head}:") if tail else 0  # a nested key: below its parent only
    new, n = re.subn(pattern, repl, text[start:], count=1)
    if n != 1:
        raise SystemExit(f"{DATA}: no line for {key}")
    return text[:start] + new


def write(x, params) -> None:
    """Rewrite the fitted values in ``calibration.yaml``."""
    text = DATA.read_text(encoding="utf-8")
    for p, value in zip(params, x, strict=True):
        text = _set(text, p.field, value)
        for other in SHARED.get(p.field, ()):
            text = _set(text, other, value)
    DATA.write_text(text, encoding="utf-8")


def write_intervals(bands: dict, rows: int) -> None:
    """Write the leave-one-source-out prediction interval into ``calibration.yaml`` (replacing an earlier one)."""
    text = DATA.read_text(encoding="utf-8")
    flow = "{" + ", ".join(f"{k}: [{lo:.3f}, {hi:.3f}]" for k, (lo, hi) in bands.items()) + "}"
    block = ("# Prediction interval: the 10th and 90th percentiles of measured / predicted tokens/s per GPU over the\n"
             f"# leave-one-source-out predictions of the {rows} predicted trust-A rows (each source's rows predicted with\n"
             "# the constants refitted without it), for dense models, MoE models and all rows; a prediction's 80%\n"
             "# interval is the prediction times these. Written by scripts/calibrate_serving.py --cv.\n"
             f"prediction_interval: {flow}\n")
    text = re.sub(r"(?ms)^# Prediction interval:.*?^prediction_interval: .*?\n", "", text)
    DATA.write_text(text.rstrip("\n") + "\n" + block, encoding="utf-8")


def table(title: str, summary: dict) -> None:
    """Print the trust-A figures overall and by source, family and model."""
    o = summary["trust_a"]
    print(f"\n{title}: {o['rows']} trust-A rows, median {100 * o['median_abs_error']:.1f}%, "
          f"p90 {100 * o['p90_abs_error']:.1f}%, mean {100 * o['mean_error']:+.1f}%")
    groups(summary, ("by_source", "by_family", "by_model"))


def print_profile(rows: list[dict[str, str]], values_ms: str) -> None:
    """The cost profile of the held constant (:data:`~stargate.inference.calibration.HELD`)."""
    try:
        values = [float(v) / 1e3 for v in values_ms.split(",")]
    except ValueError:
        values = []
    held = HELD[0]
    if not values or not all(held.low <= v <= held.high for v in values):  # NaN fails both comparisons
        print(f"--profile: {values_ms!r} is not allowed: comma-separated milliseconds from {1e3 * held.low:g} to "
              f"{1e3 * held.high:g}", file=sys.stderr)
        raise SystemExit(2)
    print(f"{held.field} held; {', '.join(p.field for p in PARAMS)} refitted")
    for v, x, cost in profile(rows, held, values):
        print(f"  {1e3 * v:5.2f} ms  cost {cost:.3f}  fitted {' '.join(f'{c:.4g}' for c in x)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", default=str(RUNS))
    parser.add_argument("--cv", action="store_true", help="also leave-one-source-out, and the prediction interval")
    parser.add_argument("--maturity", action="store_true", help="fit the new-architecture maturity term too")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write calibration.yaml")
    parser.add_argument("--profile", metavar="MS", help="print the fit's cost with the held engine step at these "
                        "values (comma-separated milliseconds), the fitted constants refitted at each; writes nothing")
    args = parser.parse_args()
    if args.profile:
        print_profile([r for r in read_runs(args.runs) if r.get("trust") == "A"], args.profile)
        return
    params = PARAMS + MATURITY if args.maturity else PARAMS
    rows = [r for r in read_runs(args.runs) if r.get("trust") == "A"]
    trust = {r.get("run_id", ""): "A" for r in rows}
    x = fit(rows, params=params)
    fitted(params, x)
    table("in-sample", summarize_serving(validate_serving(rows, constants=constants_with(x, params=params)), trust))
    if not args.dry_run:
        write(x, params)
    if args.cv:
        held = cross_validate(rows, params=params)
        summary = summarize_serving(held, trust)
        table("leave-one-source-out", summary)
        bands = intervals(rows, held)
        print("prediction interval (measured / predicted, p10-p90):", bands)
        if not args.dry_run:
            write_intervals(bands, summary["trust_a"]["rows"])


if __name__ == "__main__":
    main()
