"""Warm spares: how many idle GPUs a phase keeps so that a failed domain is replaced at once.

A failure that needs hardware work (a GPU, HBM, host or NIC fault; ``needs_repair`` in the
catalog's failure rates) takes its whole failure domain out of service for ``return_s`` (swap the
node or tray from stock, re-validate). By Little's law the mean number of domains out is
``m = N x rate x return_s``; the pool holds ``ceil(m + k sqrt(m))`` domains (``k`` = the
catalog's ``margin_sigmas`` of the Poisson count), so a spare is almost always at hand. The spares
are GPUs bought with the phase: they sit in its GPU count (capex) and idle in the goodput
breakdown. Source of the practice: ByteRobust's warm standbys (arXiv:2509.16293).
"""

from __future__ import annotations

import math

from stargate.catalog import Catalog

__all__ = ["repair_rate_per_gpu_s", "spare_gpus"]


def repair_rate_per_gpu_s(catalog: Catalog) -> float:
    """Failures per GPU-second that take hardware out of service (the catalog's ``needs_repair``)."""
    return sum(f.interruptions_per_gpu_hour for f in catalog.entries("failure_rates")  # type: ignore[attr-defined]
               if f.needs_repair) / 3600.0  # type: ignore[attr-defined]


def spare_gpus(gpus: int, domain_gpus: int, catalog: Catalog | None = None, fraction: float | None = None) -> int:
    """Warm-spare GPUs for a phase of ``gpus`` GPUs whose failure domain holds ``domain_gpus``.

    ``fraction`` (a scenario's ``hot_spare_fraction``) overrides the sizing; 0 means no spares.

    Examples
    --------
    >>> spare_gpus(16384, 8)  # Llama 3 scale, 8-GPU servers: 6 out on average, 14 in reserve
    112
    >>> spare_gpus(16384, 8, fraction=0.0)
    0
    """
    if fraction is not None:
        return round(fraction * gpus)
    cat = catalog or Catalog.load()
    sp = cat.get("spares", "default", "spares")
    mean_out = gpus * repair_rate_per_gpu_s(cat) * sp.return_s  # type: ignore[attr-defined]
    domains = math.ceil(mean_out + sp.margin_sigmas * math.sqrt(mean_out))  # type: ignore[attr-defined]
    return min(domains * domain_gpus, gpus // 2)
