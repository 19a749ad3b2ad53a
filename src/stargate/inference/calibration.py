"""The few fitted constants of the serving model, their fit, and its leave-one-source-out check.

Kernel times are measured (:mod:`stargate.kernels`); memory, KV cache and the search are closed-form.
What is fitted on the trust-A rows of ``inference_runs.csv`` are the constants of :data:`PARAMS`, each a
physical quantity with bounds, jointly by robust least squares (soft-L1) on ``log(predicted / measured)``
tokens/s per GPU, polished by a simplex on the same cost. Nothing is fitted per row, source or chip. :func:`cross_validate` refits without each
source in turn and predicts the left-out rows with those constants.
Needs scipy (``pip install 'stargate[calibrate]'``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.errors import InputError, MissingExtra
from stargate.inference.context import calibration
from stargate.inference.validate import ServingRow, row_model, validate_serving
from stargate.training.calibration import Param

__all__ = ["HELD", "MATURITY", "PARAMS", "SHARED", "Param", "constants_with", "cross_validate", "fit", "intervals",
           "prediction_interval", "profile"]


PARAMS = (
    Param("step_overhead_s.trtllm", 0.0, 0.02, "fixed time of one TensorRT-LLM iteration (scheduling, sampling, launches), s"),
    Param("compute_factor", 0.8, 2.0, "engine time over the isolated measured kernels' time (fusion gaps, imbalance, dequantization)"),
    Param("borrowed_factor", 1.0, 2.5, "time over the datasheet-scaled estimate on chips without measured kernels "
          "(their software reaches a smaller share of the datasheet peak than NVIDIA's measured kernels do)"),
    Param("software_speedup_per_year", 0.0, 0.6, "yearly speedup of serving software (kernels, engines) on the same hardware"),
)
"""The fitted constants; a ``field`` is a key of ``calibration.yaml`` (``a.b`` for a nested one)."""
HELD = (
    Param("step_overhead_s.vllm", 0.0, 0.03, "fixed time of one vLLM / SGLang / other engine iteration, s"),
)
"""Constants the trust-A rows barely identify, held at their no-effect value in ``calibration.yaml`` rather than
fitted: refitting :data:`PARAMS` with the other engines' step held anywhere from 0 to 3.5 ms changes the cost by
under 4%, lowest at 0.5 ms (0.9% below 0), where TensorRT-LLM's step moves it by 3-10% over the same range
(:func:`profile`, ``scripts/calibrate_serving.py --profile``; ``docs/calibration.md``). Those engines' rows are
large MLPerf batches whose 50-150 ms steps barely feel a few milliseconds more."""
MATURITY = (
    Param("maturity_slowdown", 0.0, 2.0, "extra engine time of serving software for an architecture released the same day"),
    Param("maturity_time_years", 0.1, 2.0, "years over which that extra time decays by a factor e as the software matures"),
)
"""The new-architecture maturity term (:func:`~stargate.inference.search.maturity_factor`), fitted with
:data:`PARAMS` only on request (``scripts/calibrate_serving.py --maturity``): it is not shipped, as it does not
hold on runs outside the fitted file (``docs/calibration.md``, "Serving")."""
STARTS = {"step_overhead_s.trtllm": (0.001, 0.005, 0.002), "step_overhead_s.vllm": (0.001, 0.005, 0.0005),
          "compute_factor": (1.0, 1.2, 0.95), "borrowed_factor": (1.05, 1.3, 1.0),
          "software_speedup_per_year": (0.05, 0.2, 0.15), "maturity_slowdown": (0.05, 1.0, 0.5),
          "maturity_time_years": (0.5, 1.0, 0.3)}
"""Where the fits start (the best end point wins): near "no effect" (no engine step, isolated-kernel speed,
datasheet scaling, no software trend, almost no maturity slowdown) and two other points of the bounded box, so
that a refit without a source does not start at the answer fitted with it and a local minimum is not taken
for the fit."""
SHARED = {"step_overhead_s.vllm": ("step_overhead_s.sglang", "step_overhead_s.other")}
"""Constants that take the value of a fitted one (one overhead for the engines other than TensorRT-LLM)."""


def constants_with(x: np.ndarray, base: dict[str, Any] | None = None,
                   params: tuple[Param, ...] = PARAMS) -> dict[str, Any]:
    """``base`` (the shipped constants) with ``params`` (:data:`PARAMS`) set to ``x``.

    Examples
    --------
    >>> c = constants_with(np.array([0.001, 1.0, 1.2, 0.2]))
    >>> c["step_overhead_s"]["trtllm"], c["compute_factor"]
    (0.001, 1.0)
    >>> constants_with(np.array([0.002]), params=HELD)["step_overhead_s"]["sglang"]  # shares vLLM's step
    0.002
    """
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in (base or calibration()).items()}
    for p, v in zip(params, x, strict=True):
        for key in (p.field, *SHARED.get(p.field, ())):
            head, _, tail = key.partition(".")
            if tail:
                out[head][tail] = float(v)
            else:
                out[head] = float(v)
    return out


def current(params: tuple[Param, ...] = PARAMS) -> np.ndarray:
    """The shipped values of ``params`` (:data:`PARAMS`)."""
    cal = calibration()
    vals = []
    for p in params:
        head, _, tail = p.field.partition(".")
        vals.append(float(cal[head][tail] if tail else cal[head]))
    return np.array(vals)


def _residuals(results: list[ServingRow]) -> np.ndarray:
    out = []
    for r in results:
        if r.skipped or not np.isfinite(r.measured_tokens_per_s_per_gpu) or r.measured_tokens_per_s_per_gpu <= 0:
            continue
        pred = max(r.predicted_tokens_per_s_per_gpu, 0.05 * r.measured_tokens_per_s_per_gpu)
        out.append(np.log(pred / r.measured_tokens_per_s_per_gpu))
    return np.array(out)


def fit(rows: list[dict[str, str]], catalog: Catalog | None = None, cache: dict[Any, Any] | None = None,
        x0: np.ndarray | None = None, params: tuple[Param, ...] = PARAMS, base: dict[str, Any] | None = None) -> np.ndarray:
    """Fit ``params`` (:data:`PARAMS`) on ``rows``; returns the values in order.

    Robust least squares (soft-L1, :data:`F_SCALE`) on the log errors from three starting points (:data:`STARTS`),
    the best end point then polished by a bounded Nelder-Mead simplex on the same cost (:func:`_polish`): the
    cost is piecewise flat in the constants, and finite-difference steps alone stop on its terraces. The
    constants not in ``params`` are ``base``'s (the shipped ones by default).
    """
    try:
        from scipy.optimize import least_squares
    except ImportError:  # pragma: no cover - the calibrate extra
        raise MissingExtra("--cv", "calibrate", "scipy") from None
    if not rows:
        raise InputError("runs", "0 rows", "at least one measured row to fit on")
    cat = catalog or Catalog.load()
    cache = {} if cache is None else cache
    lo = np.array([p.low for p in params])
    hi = np.array([p.high for p in params])
    starts = [np.array([STARTS[p.field][k] for p in params]) for k in range(3)]

    def f(x: np.ndarray) -> np.ndarray:
        return _residuals(validate_serving(rows, cat, constants_with(x, base, params), cache))

    best = None
    for start in (starts if x0 is None else (x0,)):
        sol = least_squares(f, np.clip(start, lo, hi), bounds=(lo, hi), loss="soft_l1", f_scale=F_SCALE,
                            diff_step=0.05, max_nfev=150)
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None  # there are starts
    return _polish(lambda x: _cost(f(x)), np.asarray(best.x), float(best.cost), lo, hi)


F_SCALE = 0.1
"""Scale of the soft-L1 loss in log error: errors beyond about 10% weigh linearly, not quadratically."""


def _cost(r: np.ndarray) -> float:
    """The soft-L1 cost ``least_squares`` minimizes and reports (its ``cost``), ``Σ f²(√(1 + (r/f)²) - 1)``."""
    return float(np.sum(F_SCALE**2 * (np.sqrt(1.0 + (r / F_SCALE) ** 2) - 1.0)))


def _polish(cost: Callable[[np.ndarray], float], x: np.ndarray, cost_x: float, lo: np.ndarray,
            hi: np.ndarray) -> np.ndarray:
    """``x`` (of cost ``cost_x``) moved downhill by Nelder-Mead inside the bounds. The cost is piecewise flat
    (the search picks whole layouts and batches), so finite-difference steps stop on its terraces; a simplex does not."""
    from scipy.optimize import minimize

    span = hi - lo
    u0 = (x - lo) / span
    sol = minimize(lambda u: cost(np.clip(lo + u * span, lo, hi)), u0, method="Nelder-Mead",
                   options={"maxfev": 400, "xatol": 1e-4, "fatol": 1e-5})
    better = sol.fun < cost_x
    return np.clip(lo + sol.x * span, lo, hi) if better else x


def profile(rows: list[dict[str, str]], held: Param, values: list[float], catalog: Catalog | None = None,
            params: tuple[Param, ...] = PARAMS) -> list[tuple[float, np.ndarray, float]]:
    """The fit's cost with ``held`` fixed at each of ``values`` and ``params`` refitted: ``(value, fitted, cost)``.

    A constant whose profile is flat is not identified by ``rows`` (:data:`HELD`).
    """
    cat = catalog or Catalog.load()
    cache: dict[Any, Any] = {}
    out = []
    for v in values:
        base = constants_with(np.array([v]), params=(held,))
        x = fit(rows, cat, cache, x0=current(params), params=params, base=base)
        out.append((v, x, _cost(_residuals(validate_serving(rows, cat, constants_with(x, base, params), cache)))))
    return out


def cross_validate(rows: list[dict[str, str]], catalog: Catalog | None = None,
                   progress: Callable[[int, int, str], None] | None = None,
                   params: tuple[Param, ...] = PARAMS) -> list[ServingRow]:
    """Each row predicted with constants refitted on the rows of the other sources (leave-one-source-out)."""
    cat = catalog or Catalog.load()
    cache: dict[Any, Any] = {}
    groups = sorted({r.get("source_id", "") for r in rows})
    out: dict[int, ServingRow] = {}
    for n, g in enumerate(groups):
        if progress is not None:
            progress(n, len(groups), g)
        train = [r for r in rows if r.get("source_id", "") != g and r.get("trust") == "A"]
        held = [i for i, r in enumerate(rows) if r.get("source_id", "") == g]
        x = fit(train, cat, cache, params=params) if train else current(params)
        consts = constants_with(x, params=params)
        for i, res in zip(held, validate_serving([rows[i] for i in held], cat, consts, cache), strict=True):
            out[i] = res
    if progress is not None:
        progress(len(groups), len(groups), "done")
    return [out[i] for i in range(len(rows))]


def _floored(r: ServingRow) -> float:
    """The prediction, at least 5% of the measurement (a row whose limits the model finds unreachable)."""
    return max(r.predicted_tokens_per_s_per_gpu, 0.05 * r.measured_tokens_per_s_per_gpu)


def intervals(rows: list[dict[str, str]], results: list[ServingRow]) -> dict[str, tuple[float, float]]:
    """10th and 90th percentiles of measured / predicted tokens/s per GPU over ``results`` (cross-validated).

    For every row, for the ``dense`` and the ``moe`` ones when each has at least 40, and ``all``; a prediction
    of zero (limits the model finds unreachable) counts as 5% of the measurement, as in the fit.

    Examples
    --------
    >>> rows = [{"model": "meta-llama/Llama-2-70b-chat-hf"}] * 40 + [{"model": "mistralai/Mixtral-8x7B-Instruct-v0.1"}] * 10
    >>> res = [ServingRow("r", "s", "h100", "m", "offline", predicted_tokens_per_s_per_gpu=100.0,
    ...                   measured_tokens_per_s_per_gpu=80.0 + i) for i in range(50)]
    >>> bands = intervals(rows, res)
    >>> sorted(bands), [round(v, 3) for v in bands["dense"]]  # too few MoE rows for a band of their own
    (['all', 'dense'], [0.839, 1.151])
    """
    ratios: dict[str, list[float]] = {"all": []}
    for row, r in zip(rows, results, strict=True):
        if r.skipped or not np.isfinite(r.measured_tokens_per_s_per_gpu) or r.measured_tokens_per_s_per_gpu <= 0:
            continue
        ratio = r.measured_tokens_per_s_per_gpu / _floored(r)
        ratios["all"].append(ratio)
        ratios.setdefault("moe" if row_model(row).moe is not None else "dense", []).append(ratio)
    return {k: (float(np.percentile(v, 10)), float(np.percentile(v, 90))) for k, v in ratios.items()
            if len(v) >= 40 or (k == "all" and v)}


def prediction_interval(moe: bool) -> tuple[float, float]:
    """The serving model's 80% interval as factors on a predicted tokens/s per GPU: (P10, P90) of measured /
    predicted over the leave-one-source-out predictions of the trust-A rows (``calibration.yaml``,
    ``prediction_interval``; written by ``scripts/calibrate_serving.py``), for a dense or an MoE model.
    A class with too few rows to have its own band takes the band of all rows.

    Examples
    --------
    >>> lo, hi = prediction_interval(moe=True)
    >>> 0.0 < lo < 1.0 < hi
    True
    """
    table = calibration()["prediction_interval"]
    lo, hi = table.get("moe" if moe else "dense", table["all"])
    return float(lo), float(hi)
