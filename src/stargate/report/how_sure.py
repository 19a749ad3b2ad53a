"""The numbers behind the report's "How sure" section: the plan's ranges and one phase's sensitivity.

:func:`plan_with_ranges` adds to a plan's JSON what ``stargate plan --uncertainty N`` adds (each phase's
``ranges``, the totals' ``ranges``, the ``uncertainty`` block), from
:func:`stargate.uncertainty.plan.plan_ranges`; :func:`phase_sensitivity` ranks the inputs of one phase
(``stargate sensitivity``'s ``phase`` and ``headlines``) from :func:`stargate.uncertainty.plan.phase_model`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stargate.catalog import Catalog
from stargate.plan import DEFAULT_LAW, Plan
from stargate.scenario import Scenario

__all__ = ["REPORT_SAMPLES", "phase_sensitivity", "plan_with_ranges"]

REPORT_SAMPLES = 500
"""Samples the report draws by default (``stargate report --uncertainty``): the built-in plan's ranges take
well under a second, and the P10 and P90 of 500 Latin hypercube samples move by a few per cent between seeds."""


def plan_with_ranges(scenario: Scenario, catalog: Catalog, plan: Plan, n: int, seed: int = 0,
                     progress: Callable[[int, int], None] | None = None, law: str = DEFAULT_LAW) -> dict[str, Any]:
    """The plan's JSON with each phase's ``ranges``, the totals' ``ranges`` and the ``uncertainty`` block
    (``law``: the scaling law the plan was run with).

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> sc, cat = builtin_scenario(), Catalog.load()
    >>> out = plan_with_ranges(sc, cat, run_plan(sc, cat), n=64, seed=1)
    >>> r = out["phases"][-1]["ranges"]["capex_usd"]
    >>> r["p10"] <= r["p50"] <= r["p90"], out["uncertainty"]["samples"], "capex_usd" in out["totals"]["ranges"]
    (True, 64, True)
    """
    from stargate.uncertainty.plan import plan_ranges

    pr = plan_ranges(scenario, catalog, plan, n, seed, progress, law=law)
    out = plan.model_dump(mode="json")
    for phase, ranges in zip(out["phases"], pr.phases, strict=True):
        phase["ranges"] = ranges.ranges
    out["totals"]["ranges"] = pr.totals
    out["uncertainty"] = pr.block()
    return out


def phase_sensitivity(scenario: Scenario, catalog: Catalog, plan: Plan, phase: int = -1, seed: int = 0,
                      with_sobol: bool = True, law: str = DEFAULT_LAW) -> dict[str, Any]:
    """One phase's inputs ranked for every headline: one-at-a-time swings and, with ``with_sobol`` and the
    ``uncertainty`` extra, Sobol indices (:func:`stargate.uncertainty.sensitivity.ranking`).

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> sc, cat = builtin_scenario(), Catalog.load()
    >>> s = phase_sensitivity(sc, cat, run_plan(sc, cat), with_sobol=False)
    >>> s["phase"], s["headlines"]["gpus"][0]["swing"] >= s["headlines"]["gpus"][-1]["swing"]
    ('Phase 5: Stargate', True)
    """
    from stargate.uncertainty.plan import phase_model
    from stargate.uncertainty.sensitivity import ranking

    model = phase_model(scenario.phases[phase], scenario, catalog, plan.phases[phase], law)
    return {"phase": plan.phases[phase].name, "headlines": ranking(model, seed=seed, with_sobol=with_sobol)}
