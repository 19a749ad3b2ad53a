"""Prediction intervals of training predictions, from cross-validated residuals.

The catalog's ``training/default`` entry holds, per class of job (dense or mixture-of-experts ×
16-bit or lower precision, :func:`stargate.training.calibration.interval_class`), the 10th and 90th
percentiles of ``measured / predicted`` tokens/s per GPU over the leave-one-source-out predictions
of ``published_runs.csv`` (``scripts/calibrate.py --cv`` writes them). A prediction's P10–P90 band is
the prediction times those two ratios; a quantity inversely proportional to throughput (step time,
days to train) takes the inverse band. The band is widened, where needed, to contain the point
prediction (a ratio band entirely above or below 1 would otherwise leave the point outside it).
A class with too few runs to have its own band takes the envelope of every class's band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stargate.catalog import Catalog

__all__ = ["BASIS", "Band", "band_for", "mfu_ceiling"]

BASIS = ("P10–P90 of measured/predicted tokens/s per GPU over leave-one-source-out predictions of published runs "
         "of the same class (dense or MoE × 16-bit or low precision); catalog training/default.prediction_interval")
"""What the bands mean, for the answers that carry them."""


@dataclass(frozen=True)
class Band:
    """A P10–P90 band of ``measured / predicted`` throughput for one class of job."""

    job_class: str
    """The class the band was taken from (``dense-16bit``, ``moe-lowp``, ...)."""
    low: float
    """P10 of measured / predicted tokens/s per GPU (at most 1)."""
    high: float
    """P90 of measured / predicted tokens/s per GPU (at least 1)."""
    borrowed: bool = False
    """True when the class had no band of its own and the envelope of all classes was used."""

    def scale(self, value: float) -> dict[str, float]:
        """P10 and P90 of a quantity proportional to throughput (tokens/s, MFU, usable FLOPs).

        Examples
        --------
        >>> Band("dense-16bit", 0.9, 1.2).scale(100.0)
        {'p10': 90.0, 'p90': 120.0}
        """
        return {"p10": value * self.low, "p90": value * self.high}

    def inverse(self, value: float) -> dict[str, float]:
        """P10 and P90 of a quantity inversely proportional to throughput (step time, days).

        Examples
        --------
        >>> Band("dense-16bit", 0.8, 1.25).inverse(1.0)
        {'p10': 0.8, 'p90': 1.25}
        """
        return {"p10": value / self.high, "p90": value / self.low}

    def capped(self, max_ratio: float) -> Band:
        """The band with its high end at most ``max_ratio`` (and never below 1): a throughput the chip
        cannot reach is not a plausible outcome, however wide the residuals of its class.

        Examples
        --------
        >>> Band("moe-lowp", 0.8, 1.8).capped(1.3).high, Band("moe-lowp", 0.8, 1.8).capped(0.9).high
        (1.3, 1.0)
        """
        return Band(self.job_class, self.low, max(1.0, min(self.high, max_ratio)), self.borrowed)

    def as_dict(self) -> dict[str, Any]:
        """The band as reported in JSON answers."""
        return {"class": self.job_class, "ratio_p10": self.low, "ratio_p90": self.high,
                "borrowed": self.borrowed, "basis": BASIS}


def band_for(catalog: Catalog, moe: bool, precision: str) -> Band | None:
    """The P10–P90 band for a job of this kind, or ``None`` when the catalog has no intervals.

    Examples
    --------
    >>> b = band_for(Catalog.load(), moe=False, precision="bf16")
    >>> b.job_class, b.low <= 1.0 <= b.high
    ('dense-16bit', True)
    """
    from stargate.training.calibration import interval_class

    table = catalog.get("training", "default").prediction_interval  # type: ignore[attr-defined]
    if not table:
        return None
    key = interval_class(moe, precision)
    if key in table:
        low, high = table[key]
        borrowed = False
    else:
        low, high = min(v[0] for v in table.values()), max(v[1] for v in table.values())
        borrowed = True
    return Band(key, min(float(low), 1.0), max(float(high), 1.0), borrowed)


def mfu_ceiling(accelerator: str, precision: str, fp8_recipe: str | None, catalog: Catalog) -> float:
    """The highest MFU a job could show on this chip: its best measured GEMM rate at the job's precision
    (a 16,384³ GEMM from the kernel tables) over the dense 16-bit peak MFU is counted against.

    Examples
    --------
    >>> c = mfu_ceiling("h100", "bf16", None, Catalog.load())
    >>> 0.7 < c < 0.9
    True
    """
    from stargate import kernels
    from stargate.training.compute import gemm_dtype

    n = 16384.0
    seconds = float(kernels.gemm_time_s(accelerator, gemm_dtype(precision, fp8_recipe), n, n, n, catalog=catalog))
    return 2 * n**3 / seconds / catalog.accelerator(accelerator).peak_16bit_flops_per_s
