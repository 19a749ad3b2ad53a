"""The whole chain for a scenario: every phase designed, and totals across phases.

``stargate plan`` runs this. A scenario file (YAML) is a list of phases; with no file, the
built-in ``stargate`` scenario shipped in ``stargate/scenarios``. Each phase is designed by
:func:`stargate.cluster.design.design_cluster`; ``largest_model_params`` stays ``None`` until
the scaling-law model exists to compute it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from stargate.catalog import Catalog, load_yaml
from stargate.cluster.design import ClusterDesign, design_cluster
from stargate.errors import InputError
from stargate.scenario import Scenario, validate

__all__ = ["PhasePlan", "Plan", "builtin_scenario", "load_scenario", "run_plan"]


class PhasePlan(BaseModel):
    """One phase of a plan: the contract's headline figures and the full design."""

    model_config = ConfigDict(frozen=True)

    name: str
    year: int
    gpus: int
    accelerator: str
    capex_usd: float
    facility_power_w: float
    peak_flops: float
    """Dense 16-bit peak of the whole phase (FLOP/s)."""
    largest_model_params: float | None
    """Largest compute-optimal model trainable in the phase (not yet modelled: ``None``)."""
    design: ClusterDesign


class Plan(BaseModel):
    """A scenario's phases and their totals."""

    model_config = ConfigDict(frozen=True)

    scenario: str
    description: str
    phases: list[PhasePlan]
    totals: dict[str, float]


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError("scenario", str(p), f"a readable YAML file ({e.strerror})") from None
    return validate(Scenario, load_yaml(text, f"scenario {p.name}"), f"scenario {p.name}")


def builtin_scenario(name: str = "stargate") -> Scenario:
    """A scenario shipped with Stargate."""
    text = (resources.files("stargate") / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8")
    return validate(Scenario, load_yaml(text, name), f"scenario {name}")


def run_plan(scenario: Scenario, catalog: Catalog | None = None) -> Plan:
    """Design every phase of ``scenario`` and add up the totals.

    Examples
    --------
    >>> plan = run_plan(builtin_scenario())
    >>> plan.phases[0].accelerator
    'gb200-186g'
    """
    cat = catalog or Catalog.load()
    phases = []
    for ph in scenario.phases:
        d = design_cluster(ph, cat)
        acc = cat.accelerator(d.accelerator)
        phases.append(PhasePlan(
            name=ph.name, year=ph.year, gpus=d.gpus, accelerator=d.accelerator, capex_usd=d.capex_usd,
            facility_power_w=d.facility_power_w, peak_flops=d.gpus * acc.peak_16bit_flops_per_s,
            largest_model_params=None, design=d,
        ))
    totals = {
        "capex_usd": sum(p.capex_usd for p in phases),
        "gpus": float(sum(p.gpus for p in phases)),
        "facility_power_w": sum(p.facility_power_w for p in phases),
        "peak_flops": sum(p.peak_flops for p in phases),
        "opex_usd_per_year": sum(p.design.opex_usd_per_year for p in phases),
    }
    return Plan(scenario=scenario.name, description=scenario.description, phases=phases, totals=totals)
