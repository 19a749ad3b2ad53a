"""Explicit graphs of small fabrics (networkx): to draw them, and to check the closed forms.

:func:`clos_graph` wires a folded Clos port by port, following the construction rules written
in :mod:`stargate.fabric.topology` (not its count formulas), so that counting the graph's nodes
and edges, its worst-case paths and a max-flow across a balanced cut checks those formulas
independently. Build it for thousands of endpoints, not millions.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from stargate.fabric.topology import top_group

__all__ = ["balanced_cut_links", "clos_graph", "graph_counts"]


def clos_graph(endpoints: int, radix: int, downs: list[int], ups: list[int]) -> Any:
    """Wire a folded Clos; nodes are ``("gpu", i)`` and ``(tier, block, position)`` switches.

    Parameters
    ----------
    endpoints, radix : int
        Endpoints and switch radix.
    downs, ups : list of int
        Ports down and up per switch of each tier below the top (leaf first).

    Returns
    -------
    networkx.MultiGraph
        One edge per cable; parallel edges where a partial build doubles links.

    Examples
    --------
    >>> g = clos_graph(8, 4, [2], [2])
    >>> graph_counts(g)
    ({1: 4, 2: 2}, {1: 8, 2: 8}, 4)
    """
    import networkx as nx

    g = nx.MultiGraph()
    # Tier 1: endpoint i on leaf i // d1. A switch is (tier, block, position-in-block).
    leaves = math.ceil(endpoints / downs[0]) if downs else 1
    for i in range(endpoints):
        g.add_edge(("gpu", i), (1, i // downs[0], 0) if downs else (1, 0, 0))
    # children: the switches of each block at the current level, keyed by block index.
    children = {b: [(1, b, 0)] for b in range(leaves)}
    for t in range(2, len(downs) + 1):  # inner tiers: uplink q of child switch j -> switch (j, q)
        u = ups[t - 2]
        parents: dict[int, list[Any]] = {}
        for b, switches in children.items():
            parent = b // downs[t - 1]
            parents[parent] = [(t, parent, p) for p in range(len(switches) * u)]
            for j, sw in enumerate(switches):
                for q in range(u):
                    g.add_edge(sw, (t, parent, j * u + q))
        children = parents
    if downs:  # top tier: uplinks of position j of every block share one group, round-robin
        top, u = len(downs) + 1, ups[-1]
        group = top_group(len(children), u, radix)
        half = math.ceil(len(children) / 2)
        for b, switches in sorted(children.items()):
            for j, sw in enumerate(switches):
                for q in range(u):  # the second half of the blocks is wired like the first
                    g.add_edge(sw, (top, 0, j * group + ((b % half) * u + q) % group))
    return g


def graph_counts(g: Any) -> tuple[dict[int, int], dict[int, int], int]:
    """Switches per tier, links arriving at each tier from below, and the most ports any switch uses."""
    switches = Counter(n[0] for n in g if n[0] != "gpu")
    links: Counter[int] = Counter()
    for a, b in g.edges():
        links[max(0 if a[0] == "gpu" else a[0], 0 if b[0] == "gpu" else b[0])] += 1
    ports = max(d for n, d in g.degree() if n[0] != "gpu")
    return dict(switches), dict(links), ports


def balanced_cut_links(g: Any, endpoints: int) -> float:
    """Max flow (in links) from the first half of the endpoints to the second half."""
    import networkx as nx

    d = nx.DiGraph()
    for a, b in g.edges():
        for x, y in ((a, b), (b, a)):
            cap = d.get_edge_data(x, y, {"capacity": 0})["capacity"]
            d.add_edge(x, y, capacity=cap + 1)
    half = endpoints // 2
    for i in range(endpoints):
        if i < half:
            d.add_edge("src", ("gpu", i), capacity=1)
        else:
            d.add_edge(("gpu", i), "dst", capacity=1)
    return float(nx.maximum_flow_value(d, "src", "dst"))
