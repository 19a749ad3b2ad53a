"""Folded-Clos (fat-tree) scale-out topologies in closed form, at any size.

A switch of radix ``k`` in tier ``t`` below the top uses ``d_t`` ports down and ``u_t = k - d_t``
up; the oversubscription of the tier is ``d_t / u_t`` (1 is non-blocking). The top tier uses all
``k`` ports down. The construction, tier by tier (Leiserson 1985; Al-Fares et al., SIGCOMM 2008,
generalised to any radix, size and oversubscription):

- a *level-1 block* is one leaf switch with ``E_1 = d_1`` endpoints; ``B_1 = 1`` switch;
- a *level-t block* (``1 < t < T``) joins up to ``d_t`` level-(t-1) blocks through
  ``B_t = B_{t-1} * u_{t-1}`` tier-t switches: uplink ``q`` of child switch ``j`` goes to
  tier-t switch ``(j, q)``, so each tier-t switch has one link to each child block;
  ``E_t = d_t * E_{t-1}`` endpoints;
- the *top tier* ``T`` takes every uplink of the level-(T-1) blocks: for each switch position ``j``
  of a block, a group of ``g`` top switches shares the uplinks of position ``j`` of all blocks,
  round-robin, the second half of the blocks wired like the first so that a cut between the
  halves meets as many links from each side on every top switch (parallel links where the build
  is partial). ``g`` is the smallest divisor of ``u_{T-1}`` with ``g >= n_{T-1} u_{T-1} / k``, so
  every block sends the same number of links to every top switch of its group (even ECMP
  spreading), as NVIDIA's DGX SuperPOD B300 XDR tables build it: 4 SUs of 72 nodes = 32 leaves of
  72 uplinks on 144-port switches take 18 spines, not 16; 8 SUs take 36 (RA-11339-001, Table 3).

So with ``n_1 = ceil(N / d_1)`` leaves and ``n_t = ceil(n_{t-1} / d_t)`` blocks per level, the
switch counts are ``S_t = n_t * B_t`` below the top and ``S_T = B_{T-1} * g``; the links from tier
``t`` up are ``S_t * u_t``; ``T`` tiers reach ``k * E_{T-1}`` endpoints (``2 (k/2)^T`` when
non-blocking: 2,048 for two tiers of 64-port switches, 65,536 for three). A balanced cut crosses
half the links of the narrowest tier: the bisection is ``min(N, min_t S_t u_t) / 2`` links.
Worst-case paths go up to the top and down: ``2T`` links, ``2T - 1`` switches.

Counts are O(T) arithmetic on integers: a 5,000,000-endpoint fabric costs microseconds.
:mod:`stargate.fabric.graph` builds the same construction as an explicit networkx graph for
small sizes, and the tests check that both agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stargate.errors import InputError

__all__ = ["Clos", "clos", "split_ports", "top_group"]

MAX_TIERS = 6


@dataclass(frozen=True, slots=True)
class Clos:
    """Counts of one folded-Clos plane. Tuples run from the leaf tier (index 0) up."""

    endpoints: int
    radix: int
    tiers: int
    down_ports: tuple[int, ...]
    """Ports down per switch of each tier (the top tier uses all ``radix``)."""
    up_ports: tuple[int, ...]
    """Ports up per switch of each tier (0 at the top)."""
    blocks: tuple[int, ...]
    """Number of level-t blocks below the top (leaves, pods, ...)."""
    block_endpoints: tuple[int, ...]
    """Endpoints a full level-t block holds."""
    switches_by_tier: tuple[int, ...]
    links_by_tier: tuple[int, ...]
    """Links arriving at each tier from below: endpoint-leaf, leaf-spine, ..."""
    capacity: int
    """Largest endpoint count these tiers can hold."""

    @property
    def switches(self) -> int:
        """All switches of the plane."""
        return sum(self.switches_by_tier)

    @property
    def oversubscription(self) -> tuple[float, ...]:
        """Down/up port ratio of each tier below the top."""
        return tuple(d / u for d, u in zip(self.down_ports, self.up_ports, strict=False) if u)

    @property
    def bisection_links(self) -> float:
        """Links crossing a balanced cut: half those of the narrowest tier."""
        return min(self.links_by_tier) / 2

    @property
    def worst_case_switch_hops(self) -> int:
        """Switches on the longest shortest path between two endpoints."""
        return 2 * self.tiers - 1


def top_group(blocks: int, up: int, radix: int) -> int:
    """Top switches per block position: the fewest that divide ``up`` evenly and fit the radix.

    Examples
    --------
    >>> top_group(32, 72, 144), top_group(64, 72, 144), top_group(16, 72, 144), top_group(64, 32, 64)
    (18, 36, 8, 32)
    """
    need = math.ceil(blocks * up / radix)
    return next(g for g in range(need, up + 1) if up % g == 0)


def split_ports(radix: int, oversubscription: float) -> tuple[int, int]:
    """Down and up ports of a switch for a down/up ratio: ``d = floor(k r / (1 + r))``.

    Examples
    --------
    >>> split_ports(64, 1.0)
    (32, 32)
    >>> split_ports(64, 3.0)
    (48, 16)
    """
    if not oversubscription >= 1.0:
        raise InputError("oversubscription", oversubscription, "a ratio of at least 1 (1 = non-blocking)")
    down = math.floor(radix * oversubscription / (1.0 + oversubscription) + 1e-9)
    if down < 1 or radix - down < 1:
        raise InputError("oversubscription", oversubscription, f"a ratio a {radix}-port switch can split")
    return down, radix - down


def _ratios(oversubscription: tuple[float, ...], tiers: int) -> list[float]:
    r = list(oversubscription)[: max(tiers - 1, 0)]
    return r + [1.0] * (tiers - 1 - len(r))


def _capacity(radix: int, downs: list[int]) -> int:
    return radix * math.prod(downs) if downs else radix


def clos(
    endpoints: int, radix: int, oversubscription: tuple[float, ...] = (1.0,), tiers: int | None = None
) -> Clos:
    """Counts of a folded Clos for ``endpoints`` on switches of ``radix`` ports.

    Parameters
    ----------
    endpoints : int
        Endpoint ports of the plane (one per accelerator per plane).
    radix : int
        Ports per switch at the plane's link speed.
    oversubscription : tuple of float
        Down/up ratio per tier from the leaf up; missing tiers are non-blocking.
    tiers : int, optional
        Force the number of tiers; by default the fewest that reach ``endpoints``.

    Examples
    --------
    >>> c = clos(32768, 64)
    >>> c.tiers, c.switches_by_tier, c.links_by_tier
    (3, (1024, 1024, 512), (32768, 32768, 32768))
    >>> clos(2048, 64).switches_by_tier
    (64, 32)
    """
    if endpoints < 1:
        raise InputError("gpus", endpoints, "a positive number of endpoints")
    for r in oversubscription:
        split_ports(radix, r)  # every ratio is checked, even those of tiers a small build lacks
    if radix < 2:
        raise InputError("radix", radix, "at least 2 ports")
    for n_tiers in [tiers] if tiers else range(1, MAX_TIERS + 1):
        downs = [split_ports(radix, r)[0] for r in _ratios(oversubscription, n_tiers)]
        if _capacity(radix, downs) >= endpoints:
            return _build(endpoints, radix, n_tiers, oversubscription)
    allowed = f"at most {_capacity(radix, downs):,} endpoints on {radix}-port switches in {n_tiers} tiers"
    raise InputError("gpus", endpoints, allowed + " (use more tiers, a larger radix, or more planes)")


def _build(endpoints: int, radix: int, tiers: int, oversubscription: tuple[float, ...]) -> Clos:
    splits = [split_ports(radix, r) for r in _ratios(oversubscription, tiers)]
    downs, ups = [d for d, _ in splits], [u for _, u in splits]
    if tiers == 1:
        return Clos(endpoints, radix, 1, (radix,), (0,), (), (), (1,), (endpoints,), radix)
    blocks, per_block, block_eps = [math.ceil(endpoints / downs[0])], [1], [downs[0]]
    for t in range(1, tiers - 1):
        blocks.append(math.ceil(blocks[-1] / downs[t]))
        per_block.append(per_block[-1] * ups[t - 1])
        block_eps.append(block_eps[-1] * downs[t])
    switches = [n * b for n, b in zip(blocks, per_block, strict=True)]
    group = top_group(blocks[-1], ups[-1], radix)
    switches.append(per_block[-1] * group)
    links = [endpoints] + [s * u for s, u in zip(switches, ups, strict=False)]
    return Clos(
        endpoints, radix, tiers, (*downs, radix), (*ups, 0), tuple(blocks), tuple(block_eps),
        tuple(switches), tuple(links), _capacity(radix, downs),
    )
