"""The ``stargate fabric`` command's result: one fabric, both families side by side, or sites.

A thin layer between the CLI (or web API) and the core: validates the raw options with the same
models, designs the fabric (or both families), and adds the multi-site cost when asked.
"""

from __future__ import annotations

from typing import Any

from stargate.catalog import Catalog
from stargate.enums import Fabric
from stargate.fabric.design import FabricRequest, design_fabric, plan_fabric
from stargate.fabric.multisite import MultiSiteRequest, multisite
from stargate.scenario import validate
from stargate.units import parse_quantity

__all__ = ["fabric_report"]


def fabric_report(raw: dict[str, Any], catalog: Catalog, compare: bool = False, sites: dict[str, Any] | None = None) -> dict[str, Any]:
    """Design the requested fabric(s) and return a JSON-ready dict.

    With ``compare`` the result has ``fabrics`` (InfiniBand then Ethernet) and ``comparison``
    (Ethernet relative to InfiniBand); otherwise it is the one design, at the top level. With
    ``sites`` (``sites``, ``distance``, ``fiber_pairs``, ``gradient``) each design gains a
    ``multisite`` section.
    """
    request = validate(FabricRequest, raw)
    ms = None
    if sites:
        ms = validate(MultiSiteRequest, {
            "sites": sites["sites"], "fiber_pairs": sites["fiber_pairs"],
            "distance_m": sites["distance"],
            "gradient_bytes": parse_quantity(sites["gradient"], "bytes", "gradient_bytes"),
            **({"model_parallel": sites["model_parallel"]} if sites.get("model_parallel") else {}),
        })
    families = [Fabric.INFINIBAND, Fabric.ETHERNET] if compare else [request.fabric]
    designs = []
    for fam in families:
        req = request.model_copy(update={"fabric": fam, "switch": request.switch if not compare else None})
        d = design_fabric(req, catalog).model_dump(mode="json")
        if ms is not None:
            d["multisite"] = multisite(ms, request.gpus, plan_fabric(req, catalog), catalog).model_dump(mode="json")
        designs.append(d)
    if not compare:
        return designs[0]
    ib, eth = designs
    keys = ("fabric_capex_usd", "fabric_power_w", "switches", "transceivers", "tiers", "worst_case_latency_s",
            "bisection_bw_bytes_per_s")
    comparison = {k: {"infiniband": ib[k], "ethernet": eth[k], "ethernet_over_infiniband": eth[k] / ib[k] if ib[k] else None}
                  for k in keys}
    comparison["collectives_s"] = {k: {"infiniband": ib["collectives_s"][k], "ethernet": eth["collectives_s"][k]}
                                   for k in ib["collectives_s"]}
    return {"fabrics": designs, "comparison": comparison}
