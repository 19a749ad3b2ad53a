"""Sensitivity: which uncertain inputs move each headline most.

Two measures, over the same :class:`~stargate.uncertainty.propagate.Model` the ranges come from:

- **One-at-a-time swings** (the tornado): each input set to its P10 and then its P90, every other input at
  its point; the swing is the distance between the two headline values. Cheap (two evaluations per input)
  and easy to read, but blind to interactions.
- **Sobol indices** (Sobol', Math. Comput. Simul. 55, 2001; Saltelli et al., Comput. Phys. Commun. 181,
  2010): the share of a headline's variance an input explains alone (first order) and with all its
  interactions (total), estimated by SALib from a Sobol' sequence design of ``N · (d + 2)`` evaluations in
  the inputs' probability space (the same quantile transforms as the ranges).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from stargate.extras import require
from stargate.uncertainty.propagate import Model
from stargate.uncertainty.sampling import U_CLIP, values

__all__ = ["DEFAULT_SOBOL_BASE", "ranking", "sobol", "tornado"]

DEFAULT_SOBOL_BASE = 512
"""Base samples ``N`` of the Sobol design (a power of two): ``N · (d + 2)`` evaluations in all."""


def tornado(model: Model) -> dict[str, list[dict[str, Any]]]:
    """One-at-a-time swings of every headline, largest first.

    Examples
    --------
    >>> from stargate.uncertainty.bands import Uncertain
    >>> a = Uncertain("chip price", "a", 10.0, 8.0, 12.5, "estimate")
    >>> b = Uncertain("switch price", "b", 1.0, 0.9, 1.1, "vendor")
    >>> t = tornado(Model((a, b), lambda v: {"capex_usd": 100 * v["a"] + 10 * v["b"]}))
    >>> [(s["input"], round(s["swing"], 6)) for s in t["capex_usd"]]
    [('chip price', 450.0), ('switch price', 2.0)]
    """
    d = len(model.inputs)
    if d == 0:
        return {k: [] for k in model.point()}
    chosen = {b.key: np.full(2 * d, b.point) for b in model.inputs}
    for j, b in enumerate(model.inputs):
        chosen[b.key][2 * j], chosen[b.key][2 * j + 1] = b.low, b.high
    out = model.at(chosen)
    result: dict[str, list[dict[str, Any]]] = {}
    for name, y in out.items():
        rows = [{"input": b.label, "key": b.key, "low": b.low, "high": b.high, "basis": b.basis,
                 "output_at_low": float(y[2 * j]), "output_at_high": float(y[2 * j + 1]),
                 "swing": float(abs(y[2 * j + 1] - y[2 * j]))} for j, b in enumerate(model.inputs)]
        result[name] = sorted(rows, key=lambda r: -r["swing"] if np.isfinite(r["swing"]) else 0.0)
    return result


def sobol(model: Model, base: int = DEFAULT_SOBOL_BASE, seed: int = 0) -> dict[str, dict[str, dict[str, float]]]:
    """First-order and total Sobol indices of every input for every headline (needs the uncertainty extra).

    Examples
    --------
    >>> from stargate.uncertainty.bands import Uncertain
    >>> a = Uncertain("chip price", "a", 10.0, 8.0, 12.5, "estimate")
    >>> b = Uncertain("switch price", "b", 1.0, 0.9, 1.1, "vendor")
    >>> s = sobol(Model((a, b), lambda v: {"capex_usd": 100 * v["a"] + 10 * v["b"]}), base=256)
    >>> s["capex_usd"]["a"]["total"] > 0.99 > 0.01 > s["capex_usd"]["b"]["total"]
    True
    """
    require("'stargate sensitivity'", "uncertainty")
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    d = len(model.inputs)
    if d == 0:
        return {k: {} for k in model.point()}
    problem = {"num_vars": d, "names": [b.key for b in model.inputs], "bounds": [[U_CLIP, 1.0 - U_CLIP]] * d}
    u = sample.sample(problem, base, calc_second_order=False, seed=seed)
    out = model.at(values(model.inputs, u))
    result: dict[str, dict[str, dict[str, float]]] = {}
    for name, y in out.items():
        y = np.asarray(y, dtype=float)
        if not np.all(np.isfinite(y)) or float(np.var(y)) <= 1e-24 * max(1.0, float(np.mean(y)) ** 2):
            result[name] = {b.key: {"first": 0.0, "total": 0.0} for b in model.inputs}
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = analyze.analyze(problem, y, calc_second_order=False, print_to_console=False, seed=seed)
        result[name] = {b.key: {"first": float(np.clip(si["S1"][j], 0.0, 1.0)), "total": float(np.clip(si["ST"][j], 0.0, 1.0))}
                        for j, b in enumerate(model.inputs)}
    return result


def ranking(model: Model, base: int = DEFAULT_SOBOL_BASE, seed: int = 0, with_sobol: bool = True) -> dict[str, list[dict[str, Any]]]:
    """The tornado of every headline with each input's Sobol indices beside its swing (the
    ``headlines`` object of ``stargate sensitivity``), largest swing first.

    Examples
    --------
    >>> from stargate.uncertainty.bands import Uncertain
    >>> a = Uncertain("chip price", "a", 10.0, 8.0, 12.5, "estimate")
    >>> r = ranking(Model((a,), lambda v: {"capex_usd": 100 * v["a"]}), base=64, with_sobol=False)
    >>> r["capex_usd"][0]["input"], r["capex_usd"][0]["sobol_total"]
    ('chip price', None)
    """
    swings = tornado(model)
    indices = sobol(model, base, seed) if with_sobol else {}
    for name, rows in swings.items():
        for row in rows:
            si = indices.get(name, {}).get(row["key"])
            row["sobol_total"] = si["total"] if si else None
            row["sobol_first"] = si["first"] if si else None
    return swings
