"""The uncertainty model of one serving answer (``stargate infer --uncertainty``).

Inputs:

- the serving model's cross-validated interval: the ratio of measured to predicted tokens/s per GPU,
  point 1 (:func:`serving_interval`);
- the design model's inputs of the cluster the economics come from (accelerator and rest-of-system
  prices, power, PUE, energy price, finance; :mod:`stargate.uncertainty.compose`).

The chain is the answer's own: the ratio scales the deployment's throughput, and
:func:`stargate.serving.economics` turns throughput, the sampled TCO per GPU-hour and the sampled facility
power per GPU into dollars per million tokens (with its input/output split) and tokens per MW. The
deployment (layout, batch, replicas, prefill:decode split) is the point answer's, so the users in flight
and the share of GPU time spent on prefill stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.serving import InferRequest, design_request, economics
from stargate.training.interval import band_for
from stargate.uncertainty.bands import Uncertain
from stargate.uncertainty.compose import with_design
from stargate.uncertainty.design import design_model
from stargate.uncertainty.propagate import Model

__all__ = ["SERVING_KEY", "infer_model", "serving_input", "serving_interval"]

SERVING_KEY = "model/serving"
"""Key of the serving model's interval among a model's inputs."""
SERVING_BASIS = ("P10–P90 of measured/predicted tokens/s per GPU over leave-one-source-out predictions of the "
                 "trust-A serving runs (inference calibration.yaml prediction_interval)")
FALLBACK_BASIS = ("the training model's cross-validated band of the same class (no serving interval in this "
                  "calibration): P10–P90 of measured/predicted tokens/s per GPU over published training runs")
HELD = ("the deployment of the point answer: layout, batch, replicas and prefill:decode split (users in flight and "
        "the prefill share of GPU time unchanged), and its GPU count")


def serving_interval(moe: bool, precision: str, catalog: Catalog) -> tuple[float, float, str]:
    """P10 and P90 of measured/predicted serving tokens/s per GPU, and what they are.

    The serving calibration's cross-validated interval
    (``stargate.inference.calibration.prediction_interval``) where the installed calibration has one;
    otherwise the training model's band of the same class (:func:`stargate.training.interval.band_for`),
    the nearest measured spread of this code's throughput predictions. Either is widened to contain 1.

    Examples
    --------
    >>> lo, hi, basis = serving_interval(moe=False, precision="fp8", catalog=Catalog.load())
    >>> lo <= 1.0 <= hi
    True
    """
    from stargate.inference import calibration

    interval = getattr(calibration, "prediction_interval", None)
    if interval is not None:
        lo, hi = interval(moe)
        basis = SERVING_BASIS
    else:
        band = band_for(catalog, moe, precision)
        if band is None:
            return 1.0, 1.0, "none: the catalog has no intervals"
        lo, hi, basis = band.low, band.high, f"{FALLBACK_BASIS} ({band.job_class})"
    return min(float(lo), 1.0), max(float(hi), 1.0), basis


def serving_input(low: float, high: float, basis: str) -> Uncertain:
    """The serving model's interval (:func:`serving_interval`) as an uncertain input (a ratio, point 1).

    Examples
    --------
    >>> u = serving_input(0.8, 1.25, "cross-validated residuals")
    >>> u.key, u.point, u.low, u.high
    ('model/serving', 1.0, 0.8, 1.25)
    """
    return Uncertain("serving model: measured/predicted tokens/s per GPU", SERVING_KEY, 1.0, low, high,
                     f"cross-validated: {basis}")


def infer_model(request: InferRequest, catalog: Catalog, answer: Mapping[str, Any],
                ranges: Mapping[str, Uncertain] | None = None) -> Model:
    """The uncertainty model of a serving answer (``answer = infer(request, catalog)``).

    Headlines: ``gpus``, ``tokens_per_s_per_gpu``, ``tokens_per_s``, ``requests_per_s``, ``tokens_per_day``,
    ``usd_per_million_tokens``, ``usd_per_million_input_tokens``, ``usd_per_million_output_tokens``,
    ``tokens_per_mw``, ``tco_usd_per_gpu_hour`` and ``facility_power_w``. Sized by a budget or a power cap,
    each sample serves on the GPUs its design buys, at the point deployment's rate per GPU; sized by a
    GPU count, on that count (a typed range of it: the sampled count, rounded up). ``ranges``: the sizing
    ranges the user typed, by request field (:func:`stargate.uncertainty.options.typed_ranges`).

    Examples
    --------
    >>> from stargate.serving import infer
    >>> req = InferRequest(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens=1024,
    ...                    output_tokens=1024, tokens_per_user=20)
    >>> cat = Catalog.load()
    >>> answer = infer(req, cat)
    >>> m = infer_model(req, cat, answer)
    >>> bool(m.point()["usd_per_million_tokens"][0] == answer["usd_per_million_tokens"])
    True
    """
    from stargate.training.presets import load_model

    spec, _ = load_model(request.model)
    lo, hi, basis = serving_interval(spec.moe is not None, request.precision, catalog)
    ratio = serving_input(lo, hi, basis)
    fixed = {k: float(answer[k]) for k in ("tokens_per_s_per_gpu", "prefill_time_share")}
    tokens_in, tokens_out = request.input_tokens, request.output_tokens
    typed_gpus = (ranges or {}).get("gpus")

    def serving_gpus(values: Mapping[str, np.ndarray], design: Mapping[str, np.ndarray]) -> Any:
        if typed_gpus is not None:
            return np.ceil(values[typed_gpus.key])
        return answer["gpus"] if request.gpus is not None else design["gpus"]

    def chain(values: Mapping[str, np.ndarray], design: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        gpus = serving_gpus(values, design)
        per_gpu = fixed["tokens_per_s_per_gpu"] * values[SERVING_KEY]
        tps = per_gpu * gpus
        # A sample whose budget buys no system serves nothing: its cost per token and per MW are undefined
        # (not a number, left out of the percentiles, as the design's cost per GPU-hour is).
        with np.errstate(divide="ignore", invalid="ignore"):
            facility_w = design["facility_power_w"] * gpus / design["gpus"]  # the serving GPUs' share, as the answer's
            tco = design["tco_usd_per_gpu_hour"]
            econ = economics(tps, tokens_in, tokens_out, fixed["prefill_time_share"], gpus, tco, facility_w)
        return {"gpus": np.broadcast_to(np.asarray(gpus, dtype=float), np.shape(tps)), "tokens_per_s_per_gpu": per_gpu,
                "tokens_per_s": tps, "requests_per_s": tps / tokens_out, **econ, "tco_usd_per_gpu_hour": tco,
                "facility_power_w": facility_w}

    design = design_model(design_request(request), catalog, ranges)
    meta = {"held_fixed": HELD, "prediction_interval": {"ratio_p10": lo, "ratio_p90": hi, "basis": basis}}
    return with_design((ratio,), design, chain, meta)
