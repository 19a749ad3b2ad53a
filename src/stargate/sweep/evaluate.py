"""The whole chain's outcome for a chunk of sweep points.

Points that share inputs share work: a cluster design is computed once per distinct (accelerator,
sizing, fabric, topology, energy), a training search once per distinct (model, accelerator,
GPUs, fabric, sequence, batch, precision) and a serving search once per distinct (accelerator,
serving workload) on a replica-sized deployment (:mod:`stargate.capacity`; a point smaller than it
is searched at its own size), in caches that live as long as the worker process.
What remains per point — goodput (one job's, by the best recovery strategy, warm spares idle),
time and cost to train, the largest model, multi-site cost — is
arithmetic on the cached results. The result is a dict of equal-length columns.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from stargate.capacity import deployment_gpus, serving_rate
from stargate.catalog import Catalog
from stargate.cluster.design import design_cluster
from stargate.errors import InputError
from stargate.reference import job_goodput, reference_job, site_cost
from stargate.reliability.spares import spare_gpus
from stargate.scaling.laws import compute_optimal
from stargate.scenario import DesignRequest, ServingWorkload
from stargate.sweep.schema import OUTPUT_TYPES
from stargate.sweep.spec import SERVING_AXES, design_ids
from stargate.training.presets import load_model

__all__ = ["OUTPUTS", "evaluate_chunk"]

OUTPUTS = tuple(OUTPUT_TYPES)
"""Outcome columns of every point (their types: :data:`~stargate.sweep.schema.OUTPUT_TYPES`)."""


_WHOLE = frozenset({"gpus", "seq_len", "global_batch", "sites", "serving_input_tokens", "serving_output_tokens"})


@lru_cache(maxsize=4096)
def _design(acc: str, sizing: str, value: float, fabric: str, topology: str, energy: str) -> dict[str, Any]:
    req = DesignRequest(accelerator=acc, fabric=fabric, topology=topology, energy_source=energy,
                        **{sizing: round(value) if sizing == "gpus" else value})
    d = design_cluster(req, Catalog.load())
    return {"gpus_built": d.gpus, "racks": d.racks, "kw_per_rack": d.kw_per_rack, "cooling": d.cooling,
            "it_power_w": d.it_power_w, "facility_power_w": d.facility_power_w, "capex_usd": d.capex_usd,
            "opex_usd_per_year": d.opex_usd_per_year, "tco_usd_per_gpu_hour": d.tco_usd_per_gpu_hour,
            "network_capex_usd": d.capex_breakdown_usd["network"], "energy_mwh_per_year": d.energy_mwh_per_year,
            "carbon_t_per_year": d.carbon_t_per_year}


@lru_cache(maxsize=4096)
def _training(model: str, acc: str, gpus: int, fabric: str, topology: str, seq: int, batch: int, precision: str) -> dict[str, Any]:
    job, spec = reference_job(model, acc, gpus, seq, batch, precision, fabric, topology, Catalog.load())
    out: dict[str, Any] = {"params_total": spec.params_total, "params_active": spec.params_active}
    if job is None:
        return {**out, "fits": False}
    used = job["gpus"] * job["jobs"]  # GPUs left out of the jobs do no training
    par = job["parallelism"]
    return {**out, "fits": True, "mfu": job["mfu"] * used / gpus, "step_time_s": job["step_time_s"],
            "tokens_per_s_per_gpu": job["tokens_per_s_per_gpu"] * used / gpus, "job_gpus": job["gpus"], "used_gpus": used,
            "replica_gpus": par["tp"] * par["pp"] * par["cp"], **{k: par[k] for k in ("tp", "pp", "dp", "cp", "ep")}}


@lru_cache(maxsize=4096)
def _goodput(acc: str, gpus: int, used: int, job_gpus: int, replica_gpus: int, params: float) -> float:
    """Best recovery strategy's goodput for one of the point's jobs, warm spares (sized) idle.

    The spares stand first in the GPUs the jobs leave over (``gpus - used``, already idle in the
    MFU); only spares beyond those come out of the jobs' GPU-time and count in the goodput.
    """
    cat = Catalog.load()
    domain = cat.accelerator(acc).scale_up_domain
    share = max(spare_gpus(gpus, domain, cat) - (gpus - used), 0) / used
    return job_goodput(job_gpus, params, cat, spare_fraction=share, replica_gpus=replica_gpus,
                       domain_gpus=domain).goodput


@lru_cache(maxsize=1024)
def _serving_rate(acc: str, gpus: int, workload: ServingWorkload) -> tuple[float, float, bool] | None:
    """Tokens/s and users per GPU of the workload on ``acc`` (None: the chip cannot serve it), from one
    search on a replica-sized deployment (:func:`~stargate.capacity.serving_rate`): every point of
    the same chip and workload at or above that size shares it."""
    cat = Catalog.load()
    r = serving_rate(load_model(workload.model)[0], acc, workload, cat, gpus).result
    return None if r is None else (r.tokens_per_s_per_gpu, r.concurrent_users / r.gpus, r.meets_limits)


def _serving(p: dict[str, Any], d: dict[str, Any]) -> dict[str, Any]:
    """The point's serving columns under its reference workload (the scenario default where the spec sets none)."""
    workload = ServingWorkload(**{field: p[key] for key, field in SERVING_AXES.items() if key in p})
    acc = Catalog.load().accelerator(p["accelerator"])
    n = deployment_gpus(acc.scale_up_domain, d["gpus_built"])[0]
    rate = _serving_rate(acc.id, n, workload)
    if rate is None:
        return {}
    per_gpu, users, meets = rate
    return {"serving_tokens_per_s_per_gpu": per_gpu, "serving_users_per_gpu": users, "serving_meets_limits": meets,
            "serving_usd_per_million_tokens": d["tco_usd_per_gpu_hour"] / 3600.0 / per_gpu * 1e6,
            "serving_tokens_per_mw": per_gpu / (d["facility_power_w"] / d["gpus_built"]) * 1e6}


def _point(p: dict[str, Any]) -> dict[str, Any]:
    sizing = next(k for k in ("gpus", "budget_usd", "power_w") if k in p)
    out: dict[str, Any] = {k: None for k in OUTPUTS}
    try:
        d = _design(p["accelerator"], sizing, float(p[sizing]), p["fabric"], p["topology"], p["energy_source"])
    except InputError as e:
        return {**out, "feasible": False, "reason": str(e)}
    out.update(d)
    out.update(_serving(p, d))
    try:  # a combination the model refuses (a precision the chip lacks) is an infeasible point, not an error
        t = _training(p["model"], p["accelerator"], d["gpus_built"], p["fabric"], p["topology"], p["seq_len"],
                      p["global_batch"], p["precision"])
    except InputError as e:
        return {**out, "feasible": False, "fits": False, "reason": str(e)}
    out["fits"] = t["fits"]
    if not t["fits"]:
        return {**out, "feasible": False, "reason": f"{p['model']} fits no parallel plan"}
    out.update({k: t[k] for k in ("mfu", "step_time_s", "tokens_per_s_per_gpu", "tp", "pp", "dp", "cp", "ep")})
    gp = _goodput(p["accelerator"], d["gpus_built"], t["used_gpus"], t["job_gpus"], t["replica_gpus"],
                  float(t["params_total"]))
    tokens = float(p["training_tokens"]) or 20.0 * t["params_active"]
    rate = t["tokens_per_s_per_gpu"] * d["gpus_built"] * gp
    added = 0.0
    if p["sites"] > 1:
        try:
            added = _site_cost(p, d["gpus_built"], float(t["params_total"]))
        except InputError as e:
            return {**out, "feasible": False, "reason": f"{p['sites']} sites: {e}"}
        rate *= t["step_time_s"] / (t["step_time_s"] + added)
    if not rate > 0:
        return {**out, "feasible": False, "reason": "no training throughput"}
    seconds = tokens / rate
    flops = d["gpus_built"] * Catalog.load().accelerator(p["accelerator"]).peak_16bit_flops_per_s * t["mfu"] * gp
    out.update(goodput=gp, training_tokens_used=tokens, time_to_train_s=seconds, added_step_time_s=added,
               cost_to_train_usd=seconds * d["gpus_built"] / 3600 * d["tco_usd_per_gpu_hour"],
               largest_model_params=float(compute_optimal(flops * float(p["training_days"]) * 86400, "besiroglu2024")[0]),
               feasible=True, reason="")
    return out


@lru_cache(maxsize=1024)
def _site_cost_cached(acc: str, fabric: str, gpus: int, sites: int, distance: float, params: float) -> float:
    return max(site_cost(acc, fabric, gpus, sites, distance, params, Catalog.load()).added_step_time_s, 0.0)


def _site_cost(p: dict[str, Any], gpus: int, params: float) -> float:
    """Step time added by spreading over the point's sites; InputError if they cannot be."""
    return _site_cost_cached(p["accelerator"], p["fabric"], gpus, p["sites"], float(p["site_distance_m"]), params)


def evaluate_chunk(cols: dict[str, np.ndarray]) -> dict[str, list[Any]]:
    """Inputs and outcome of every point of a chunk, as columns (``design_id`` first).

    Whole-number fields are rounded to the nearest integer for the model (a log range of GPUs
    gives 15.999999999999998, which is 16 GPUs); the input columns keep the values as given.
    """
    n = len(next(iter(cols.values())))
    keys = list(cols)
    plain = {k: np.rint(cols[k]).astype(np.int64).tolist() if k in _WHOLE else cols[k].tolist() for k in keys}
    rows = [_point({k: plain[k][i] for k in keys}) for i in range(n)]
    table: dict[str, list[Any]] = {"design_id": design_ids(cols)}
    for k in keys:
        table[k] = cols[k].tolist()
    for k in OUTPUTS:
        table[k] = [r[k] for r in rows]
    return table
