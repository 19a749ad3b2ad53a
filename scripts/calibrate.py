"""Fit the performance model's few efficiency parameters on published training runs.

The parameters (``compute_efficiency`` per accelerator generation, ``training`` overlap factors:
see ``src/stargate/catalog/data/compute.yaml``) are fitted jointly, by robust least squares on the
log of predicted over measured tokens/s per GPU, over every row of the runs file with a measured
throughput and a complete configuration (trust A or B; the whole-run aggregates of trust C are
left out, as the file's README advises). Nothing is fitted per row or per source. The script
rewrites the numbers in ``compute.yaml`` and prints the fit's statistics.

Run: ``python scripts/calibrate.py [RUNS.csv]`` (needs scipy: ``pip install scipy``).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

from stargate.catalog import Catalog, _merge, _shipped
from stargate.training.validate import read_runs, summarize, validate_runs

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "stargate" / "catalog" / "data" / "compute.yaml"
RUNS = ROOT.parent / "shared" / "validation" / "published_runs.csv"
GENERATIONS = ("ampere", "hopper", "blackwell")
# (section, id, field, lower bound, upper bound). The bounds keep the fit physical: dense GEMMs
# reach at most ~90% of peak (cuBLAS on H100, NVIDIA's published GEMM curves), fused attention at
# most ~75% (FlashAttention-3 on H100, Shah et al. 2024), memory-bound kernels at most ~90% of HBM.
PARAMS = [
    *[("compute_efficiency", g, "matmul", 0.3, 0.92) for g in GENERATIONS],
    *[("compute_efficiency", g, "attention", 0.1, 0.75) for g in GENERATIONS],
    *[("compute_efficiency", g, "memory", 0.2, 0.9) for g in GENERATIONS],
    *[("compute_efficiency", g, "matmul_half_dim", 16.0, 2048.0) for g in GENERATIONS],
    ("compute_efficiency", "hopper", "fp8_matmul", 0.2, 1.0),
    ("compute_efficiency", "blackwell", "fp8_matmul", 0.2, 1.0),
    ("compute_efficiency", "blackwell", "fp4_matmul", 0.2, 1.0),
    ("training", "default", "tp_comm_exposed", 0.0, 1.0),
    ("training", "default", "ep_comm_exposed", 0.0, 1.0),
]


def catalog_with(x: np.ndarray) -> Catalog:
    overlay: dict[str, list[dict]] = {}
    for (section, key, field, _, _), value in zip(PARAMS, x, strict=True):
        entries = overlay.setdefault(section, [])
        entry = next((e for e in entries if e["id"] == key), None)
        if entry is None:
            entry = {"id": key}
            entries.append(entry)
        entry[field] = float(value)
    return Catalog(_merge(_shipped().data, overlay, "calibration"))


def residuals(x: np.ndarray, rows: list[dict[str, str]]) -> np.ndarray:
    results = validate_runs(rows, catalog_with(x))
    errs = [np.log(r.predicted_tokens_per_s_per_gpu / r.measured_tokens_per_s_per_gpu) for r in results
            if not r.skipped and np.isfinite(r.measured_tokens_per_s_per_gpu)]
    return np.nan_to_num(np.array(errs), nan=5.0, posinf=5.0, neginf=-5.0)


def current() -> np.ndarray:
    cat = Catalog.load()
    return np.array([getattr(cat.get(s, k), f) for s, k, f, _, _ in PARAMS])


def write(x: np.ndarray, stats: dict) -> None:
    text = DATA.read_text(encoding="utf-8")
    for (section, key, field, _, _), value in zip(PARAMS, x, strict=True):
        block = re.search(rf"(  - id: {key}\n(?:    .*\n)+)", text)
        assert block, key
        new = re.sub(rf"(    {field}: ).*", rf"\g<1>{value:.4g}", block.group(1), count=1)
        text = text.replace(block.group(1), new)
    note = (f"fitted by scripts/calibrate.py on shared/validation/published_runs.csv ({stats['rows']} rows, "
            f"trust A/B), {dt.date.today().isoformat()}; median abs error {100 * stats['median_abs_error']:.1f}%, "
            f"p90 {100 * stats['p90_abs_error']:.1f}%")
    text = re.sub(r"    source: .*", f'    source: "{note}"', text)
    text = re.sub(r'    date: ".*"', f'    date: "{dt.date.today().isoformat()}"', text)
    DATA.write_text(text, encoding="utf-8")


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    rows = [r for r in read_runs(path) if r.get("trust") in ("A", "B")]
    x0 = current()
    lo = np.array([p[3] for p in PARAMS])
    hi = np.array([p[4] for p in PARAMS])
    fit = least_squares(residuals, np.clip(x0, lo, hi), bounds=(lo, hi), args=(rows,), loss="soft_l1", f_scale=0.1,
                        diff_step=1e-3, max_nfev=400, verbose=1)
    stats = summarize(validate_runs(rows, catalog_with(fit.x)))["overall"]
    for p, v in zip(PARAMS, fit.x, strict=True):
        print(f"{p[1]:10s} {p[2]:18s} {v:.4g}")
    print({k: round(v, 4) for k, v in stats.items()})
    write(fit.x, stats)


if __name__ == "__main__":
    main()
