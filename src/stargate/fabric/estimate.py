"""Per-GPU scale-out network cost and power, before a topology is modelled.

The catalog's ``network_estimates`` give the capex and power of a whole non-blocking
scale-out fabric (NICs, switches, optics and cables) per Gbit/s of per-GPU line rate, derived
in the catalog notes from a three-tier fat tree at 400 Gbit/s per GPU. A chip's network cost
and power are that rate times its typical scale-out bandwidth (a GB300 at 800 Gbit/s costs
twice a GB200 at 400 Gbit/s).
"""

from __future__ import annotations

from stargate.catalog.schema import Accelerator, NetworkEstimate

__all__ = ["network_per_gpu"]


def network_per_gpu(estimate: NetworkEstimate, accelerator: Accelerator) -> tuple[float, float]:
    """Scale-out network ``(capex_usd, power_w)`` per accelerator.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> cat = Catalog.load()
    >>> usd, w = network_per_gpu(cat.network_estimate("infiniband"), cat.accelerator("h100"))
    >>> usd > 0 and w > 0
    True
    """
    gbps = accelerator.scale_out_bw_bits_per_s / 1e9
    return estimate.capex_usd_per_gbps * gbps, estimate.power_w_per_gbps * gbps
