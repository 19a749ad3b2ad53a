"""The few fitted constants of the training model, their fit, and its cross-validation.

Kernel times come from measurements (:mod:`stargate.kernels`); what is still fitted on
``published_runs.csv`` are seven global constants of the catalog's ``training`` entry, each a
physical quantity with bounds (:data:`PARAMS`). They are fitted jointly by robust least squares
(soft-L1) on ``log(predicted / measured)`` tokens/s per GPU over every row with a measurement and a
complete configuration (trust A or B). Nothing is fitted per row, source or chip.

:func:`cross_validate` refits without each source (or each chip generation) and predicts the left-out
rows with those constants: the leave-one-out figures that say how the model does on runs it has
not seen. Needs scipy (``pip install 'stargate[calibrate]'``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from stargate.catalog import Catalog, _merge
from stargate.errors import InputError, MissingExtra
from stargate.training.validate import RowResult, validate_runs

__all__ = ["PARAMS", "Param", "catalog_with", "cross_validate", "fit", "generation_of"]


@dataclass(frozen=True)
class Param:
    """One fitted constant: where it lives, its bounds and what it means."""

    field: str
    low: float
    high: float
    meaning: str


PARAMS = (
    Param("tp_comm_exposed", 0.0, 1.0, "share of tensor-parallel communication left exposed when the framework overlaps it"),
    Param("ep_comm_exposed", 0.0, 1.0, "share of the expert-parallel all-to-all left exposed"),
    Param("eager_launch_s_per_layer", 0.0, 5e-3, "CPU launch time of one layer (forward + backward, one micro-batch) without CUDA graphs (s)"),
    Param("moe_layer_overhead_s", 0.0, 1e-2, "fixed time per MoE layer per micro-batch under dropless routing (s)"),
    Param("sm80_peak_fraction", 0.3, 1.0, "fraction of a newer chip's peak Ampere-ISA GEMM kernels reach"),
    Param("triton_attention_factor", 1.3, 2.5, "time of Triton FlashAttention over FlashAttention-2 (Dao 2023, §4.1: 1.3-2.5x)"),
    Param("straggler_cv", 0.0, 0.05, "coefficient of variation of one GPU's step time (the step waits for the slowest)"),
)
"""The fitted constants, fields of the catalog's ``training/default`` entry."""


CV_BY = ("source", "generation")
"""What a cross-validation may leave out in turn."""

PRIOR_WEIGHT = 0.01
"""Weight of the pull of each fitted constant towards the middle of its bounds (per full range)."""


def catalog_with(x: np.ndarray, base: Catalog | None = None) -> Catalog:
    """``base`` (the shipped catalog) with the fitted constants set to ``x``."""
    base = base or Catalog.load()
    entry = {"id": "default", **{p.field: float(v) for p, v in zip(PARAMS, x, strict=True)}}
    return Catalog(_merge(base.data, {"training": [entry]}, "calibration"))


def current(base: Catalog | None = None) -> np.ndarray:
    """The constants as the catalog holds them."""
    t = (base or Catalog.load()).get("training", "default")
    return np.array([getattr(t, p.field) for p in PARAMS])


def _log_errors(results: list[RowResult]) -> np.ndarray:
    errs = [np.log(r.predicted_tokens_per_s_per_gpu / r.measured_tokens_per_s_per_gpu) for r in results
            if not r.skipped and np.isfinite(r.measured_tokens_per_s_per_gpu)]
    return np.nan_to_num(np.array(errs), nan=5.0, posinf=5.0, neginf=-5.0)


def fit(rows: list[dict[str, str]], base: Catalog | None = None, x0: np.ndarray | None = None) -> np.ndarray:
    """The constants that best predict ``rows`` (robust least squares on log errors, within bounds)."""
    try:
        from scipy.optimize import least_squares
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtra("--cv", "calibrate", "scipy") from None
    lo = np.array([p.low for p in PARAMS])
    hi = np.array([p.high for p in PARAMS])
    start = np.clip(current(base) if x0 is None else x0, lo + 1e-9, hi - 1e-9)
    # A weak pull towards the middle of each range (PRIOR_WEIGHT per full range): negligible for a constant
    # the rows inform, it keeps one they do not (a source-specific constant in a fold without that source)
    # at a neutral value instead of wherever the optimizer happens to leave it.
    mid, span = (lo + hi) / 2, hi - lo

    def residuals(x: np.ndarray) -> np.ndarray:
        return np.concatenate([_log_errors(validate_runs(rows, catalog_with(x, base))), PRIOR_WEIGHT * (x - mid) / span])

    result = least_squares(residuals, start, bounds=(lo, hi),
                           loss="soft_l1", f_scale=0.1, diff_step=1e-2, max_nfev=200, ftol=1e-5, xtol=1e-4)
    return result.x


def generation_of(accelerator: str, catalog: Catalog | None = None) -> str:
    """Chip generation of a row, for leave-one-generation-out: the measured kernel chip's family."""
    from stargate import kernels

    try:
        chip = kernels.kernel_source(accelerator, catalog).chip
    except InputError:
        return "other"
    return {"a100_sxm": "ampere", "h100_sxm": "hopper", "h200_sxm": "hopper"}.get(chip, "blackwell")


def cross_validate(rows: list[dict[str, str]], by: str = "source", base: Catalog | None = None,
                   progress: Callable[[int, int, str], None] | None = None) -> list[RowResult]:
    """Every row predicted by constants fitted without its group (``source`` or ``generation``).

    ``progress(done, total, what)`` is called before each fit (the fit on every row, then one per
    group) and once at the end with ``done == total``.
    """
    if by not in ("source", "generation"):
        raise InputError("--cv", by, " or ".join(CV_BY))
    key = (lambda r: r.get("source_id", "")) if by == "source" else (lambda r: generation_of(r.get("accelerator", ""), base))
    groups = sorted({key(r) for r in rows})
    if len(groups) < 2:
        raise InputError("--cv", by, f"a runs file with rows of at least two {by}s to refit without each (this one has "
                                     f"{len(groups)})")
    tick = progress or (lambda done, total, what: None)
    tick(0, len(groups) + 1, "fit on every row")
    x_all = fit(rows, base)
    out: dict[int, RowResult] = {}
    for n, g in enumerate(groups, start=1):
        tick(n, len(groups) + 1, f"fit without {by} {g}")
        train = [r for r in rows if key(r) != g]
        held = [(i, r) for i, r in enumerate(rows) if key(r) == g]
        x = fit(train, base, x_all) if train else x_all
        for (i, _), res in zip(held, validate_runs([r for _, r in held], catalog_with(x, base)), strict=True):
            out[i] = replace(res, defaults=[*res.defaults, f"cv: fitted without {by} {g}"])
    tick(len(groups) + 1, len(groups) + 1, "done")
    return [out[i] for i in range(len(rows))]


def interval_class(moe: bool, precision: str) -> str:
    """The class a job's prediction interval is taken from.

    Examples
    --------
    >>> interval_class(True, "fp8"), interval_class(False, "bf16")
    ('moe-lowp', 'dense-16bit')
    """
    return f"{'moe' if moe else 'dense'}-{'16bit' if precision in ('bf16', 'fp16') else 'lowp'}"


def intervals(rows: list[dict[str, str]], results: list[RowResult]) -> dict[str, tuple[float, float]]:
    """10th/90th percentiles of measured/predicted per class, from (cross-validated) ``results``."""
    ratios: dict[str, list[float]] = {}
    for row, r in zip(rows, results, strict=True):
        if r.skipped or not np.isfinite(r.measured_tokens_per_s_per_gpu):
            continue
        key = interval_class(bool(row.get("moe_experts", "").strip()), row.get("precision", "bf16") or "bf16")
        ratios.setdefault(key, []).append(r.measured_tokens_per_s_per_gpu / r.predicted_tokens_per_s_per_gpu)
    return {k: (float(np.percentile(v, 10)), float(np.percentile(v, 90))) for k, v in sorted(ratios.items()) if len(v) >= 5}


def describe() -> list[dict[str, Any]]:
    """The fitted constants with their values, bounds and meaning (for docs and the CLI)."""
    x = current()
    return [{"field": p.field, "value": float(v), "low": p.low, "high": p.high, "meaning": p.meaning,
             "on_bound": bool(np.isclose(v, p.low) or np.isclose(v, p.high))} for p, v in zip(PARAMS, x, strict=True)]
