"""The uncertainty model of one training job (``stargate train --uncertainty``).

Inputs:

- the training model's cross-validated band (:func:`stargate.training.interval.band_for`): the ratio of
  measured to predicted tokens/s per GPU, point 1, P10 and P90 from the leave-one-source-out residuals of
  the job's class, its high end capped where MFU would pass the chip's best measured GEMM rate
  (:func:`~stargate.training.interval.mfu_ceiling`), exactly as the answer's ``*_range`` figures are;
- the design model's inputs of the cluster that prices the GPU-hours (:mod:`stargate.uncertainty.compose`).

The chip's datasheet numbers are not inputs: the step time is not proportional to any of them. Compute
comes from measured kernel tables (a datasheet peak enters only as a ratio, where a chip borrows another
chip's tables); communication is latency plus bytes over bandwidth, partly hidden behind compute
(``max(0, ·)``); memory-bound passes use the measured stream bandwidth. The dense 16-bit peak enters MFU
only as the denominator of its definition, a convention rather than an uncertain quantity.

The parallelism plan is the point answer's: the ratio scales its throughput (MFU with it; step time and
days to train inversely), and the days, GPU-hours and cost follow
:func:`stargate.training.job.training_run`, the point answer's own formulas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.training.interval import BASIS, Band, band_for, mfu_ceiling
from stargate.training.job import TrainRequest, cost_design, training_run
from stargate.training.presets import load_model
from stargate.uncertainty.bands import Uncertain
from stargate.uncertainty.compose import with_design
from stargate.uncertainty.design import design_model
from stargate.uncertainty.propagate import Model

__all__ = ["TRAINING_KEY", "train_model", "training_input"]

TRAINING_KEY = "model/training"
"""Key of the training model's interval among a model's inputs."""
HELD = ("the parallelism plan, micro-batches, recompute and sharding of the point answer; the step time's "
        "breakdown scales with the ratio as a whole")
DATASHEET = ("chip datasheet numbers are not inputs: the step time is not proportional to them (measured kernel "
             "tables, latency plus bytes over bandwidth with overlap); the dense 16-bit peak enters MFU only as "
             "its definition's denominator")


def training_input(band: Band) -> Uncertain:
    """The training model's band as an uncertain input (a ratio, point 1).

    Examples
    --------
    >>> u = training_input(Band("dense-16bit", 0.8, 1.25))
    >>> u.key, u.point, u.low, u.high
    ('model/training', 1.0, 0.8, 1.25)
    """
    return Uncertain(f"training model ({band.job_class}): measured/predicted tokens/s per GPU", TRAINING_KEY,
                     1.0, band.low, band.high, f"cross-validated: {BASIS}")


def job_band(request: TrainRequest, catalog: Catalog, answer: Mapping[str, Any]) -> Band | None:
    """The answer's band, capped at the chip's MFU ceiling as its ``mfu_range`` is (``None`` without one)."""
    model, _ = load_model(request.model)
    w = request.workload
    band = band_for(catalog, model.moe is not None, w.precision)
    if band is None or not answer.get("mfu"):
        return band
    return band.capped(mfu_ceiling(answer["accelerator"], w.precision, w.fp8_recipe, catalog) / answer["mfu"])


def train_model(request: TrainRequest, catalog: Catalog, answer: Mapping[str, Any]) -> Model:
    """The uncertainty model of a training answer (``answer = train(request, catalog)``).

    Headlines: ``tokens_per_s_per_gpu``, ``step_time_s``, ``mfu``, ``hfu``, ``time_to_train.days``,
    ``time_to_train.gpu_hours``, ``time_to_train.cost_usd`` and ``time_to_train.tco_usd_per_gpu_hour``.
    A job no plan fits has no headlines.

    Examples
    --------
    >>> from stargate.training.context import Workload
    >>> from stargate.training.job import train
    >>> from stargate.uncertainty.propagate import propagate
    >>> req = TrainRequest(model="llama3.1-8b", workload=Workload(accelerator="h100", gpus=64, seq_len=8192,
    ...                    global_batch=512))
    >>> cat = Catalog.load()
    >>> answer = train(req, cat)
    >>> m = train_model(req, cat, answer)
    >>> bool(m.point()["mfu"][0] == answer["mfu"])
    True
    >>> r = propagate(m, n=200, seed=0).ranges["mfu"]
    >>> r["p10"] < answer["mfu"] < r["p90"]
    True
    """
    band = job_band(request, catalog, answer)
    meta: dict[str, Any] = {"held_fixed": HELD, "not_inputs": DATASHEET,
                            "prediction_interval": band.as_dict() if band else None}
    inputs = (training_input(band),) if band is not None else ()
    if not answer.get("fits"):
        return Model((), lambda v: {}, {**meta, "headlines": "none: no plan fits"})
    point = {k: float(answer[k]) for k in ("tokens_per_s_per_gpu", "step_time_s", "mfu", "hfu")}
    used = int(answer["gpus_used"])
    tokens = float(answer["time_to_train"]["tokens"])

    def chain(values: Mapping[str, np.ndarray], design: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        ratio = values.get(TRAINING_KEY, np.ones(1))
        tps = point["tokens_per_s_per_gpu"] * ratio
        tco = design["tco_usd_per_gpu_hour"]
        run = training_run(tokens, tps * used, used, tco)
        return {"tokens_per_s_per_gpu": tps, "step_time_s": point["step_time_s"] / ratio, "mfu": point["mfu"] * ratio,
                "hfu": point["hfu"] * ratio, **{f"time_to_train.{k}": run[k] for k in ("days", "gpu_hours", "cost_usd")},
                "time_to_train.tco_usd_per_gpu_hour": tco}

    return with_design(inputs, design_model(cost_design(request, answer["accelerator"]), catalog), chain, meta)
