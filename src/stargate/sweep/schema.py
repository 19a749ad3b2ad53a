"""The columns of a sweep's results, with their types.

A result row holds the point's ``design_id``, its input fields (numbers as ``double``, names as
``string``), the whole chain's outcome (:data:`OUTPUT_TYPES`) and ``meets_constraints``. Every
chunk is written with this exact schema, so a chunk whose outcome column is all null (every point
infeasible) has the same types as the others, and constraints are checked against it before any
work is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stargate.sweep.spec import SweepSpec

__all__ = ["OUTPUT_TYPES", "arrow_schema", "input_fields", "result_columns"]

OUTPUT_TYPES: dict[str, str] = {
    "feasible": "bool", "reason": "string", "gpus_built": "int64", "racks": "int64", "kw_per_rack": "double",
    "cooling": "string", "it_power_w": "double", "facility_power_w": "double", "capex_usd": "double",
    "opex_usd_per_year": "double", "tco_usd_per_gpu_hour": "double", "network_capex_usd": "double", "mfu": "double",
    "step_time_s": "double", "tokens_per_s_per_gpu": "double", "fits": "bool", "tp": "int64", "pp": "int64",
    "dp": "int64", "cp": "int64", "ep": "int64", "goodput": "double", "training_tokens_used": "double",
    "time_to_train_s": "double", "cost_to_train_usd": "double", "largest_model_params": "double",
    "energy_mwh_per_year": "double", "carbon_t_per_year": "double", "added_step_time_s": "double",
    "serving_tokens_per_s_per_gpu": "double", "serving_usd_per_million_tokens": "double", "serving_tokens_per_mw": "double",
    "serving_users_per_gpu": "double", "serving_meets_limits": "bool",
}
"""Outcome columns of every point and their Arrow types."""


def input_fields(spec: SweepSpec) -> list[str]:
    """The input fields a point of ``spec`` carries, in the order of :data:`~stargate.sweep.spec.AXES`.

    Examples
    --------
    >>> from stargate.sweep.spec import SweepSpec
    >>> input_fields(SweepSpec(name="t", axes={"accelerator": ["h100"], "gpus": [8]}))[:3]
    ['accelerator', 'gpus', 'fabric']
    """
    from stargate.sweep.spec import AXES

    given = set(spec.axes) | set(spec.fixed)
    return [k for k, default in AXES.items() if k in given or default is not None]


def result_columns(spec: SweepSpec) -> dict[str, str]:
    """Every column of the results of ``spec``, in order, with its Arrow type name.

    Examples
    --------
    >>> from stargate.sweep.spec import SweepSpec
    >>> cols = result_columns(SweepSpec(name="t", axes={"accelerator": ["h100"], "gpus": [8]}))
    >>> cols["design_id"], cols["gpus"], cols["fits"], list(cols)[-1]
    ('string', 'double', 'bool', 'meets_constraints')
    """
    from stargate.sweep.spec import NUMERIC

    cols = {"design_id": "string"}
    cols.update({k: "double" if k in NUMERIC else "string" for k in input_fields(spec)})
    cols.update(OUTPUT_TYPES)
    cols["meets_constraints"] = "bool"
    return cols


def arrow_schema(spec: SweepSpec) -> Any:
    """The Arrow schema of a chunk of ``spec``'s results."""
    import pyarrow as pa

    types = {"bool": pa.bool_(), "string": pa.string(), "int64": pa.int64(), "double": pa.float64()}
    return pa.schema([(name, types[kind]) for name, kind in result_columns(spec).items()])
