"""Closed-form Clos counts against explicit graphs, and against NVIDIA's published counts."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stargate.errors import InputError
from stargate.fabric.graph import balanced_cut_links, clos_graph, graph_counts
from stargate.fabric.topology import clos


@pytest.mark.parametrize(
    ("gpus", "leaf", "spine", "core"),
    [  # NVIDIA DGX SuperPOD B200 reference architecture, InfiniBand switch counts (64-port Quantum-2)
        (512, 16, 8, 0), (1024, 32, 16, 0), (2048, 64, 32, 0),
        (4096, 128, 128, 64), (8192, 256, 256, 128), (16384, 512, 512, 256),
    ],
)
def test_superpod_switch_counts(gpus, leaf, spine, core):
    c = clos(gpus, 64)
    assert c.switches_by_tier == tuple(x for x in (leaf, spine, core) if x)
    # "Cables node-leaf = leaf-spine = spine-core = #GPUs" for a non-blocking build.
    assert set(c.links_by_tier) == {gpus}


def test_32768_gpus_hand_count():
    # 64-port switches, non-blocking: leaves carry 32 GPUs and 32 uplinks -> 1,024 leaves;
    # pods of 32 leaves and 32 spines hold 1,024 GPUs -> 32 pods, 1,024 spines; spines send
    # 32 x 1,024 = 32,768 uplinks to 64-port core switches -> 512 core switches.
    c = clos(32768, 64)
    assert c.tiers == 3 and c.capacity == 64**3 // 4
    assert c.switches_by_tier == (1024, 1024, 512)
    assert c.bisection_links == 32768 / 2


def test_tiers_grow_with_size_at_the_capacity_boundaries():
    assert clos(64, 64).tiers == 1
    assert clos(65, 64).tiers == 2 and clos(2048, 64).tiers == 2
    assert clos(2049, 64).tiers == 3 and clos(65536, 64).tiers == 3
    assert clos(65537, 64).tiers == 4


def test_oversubscription_splits_ports():
    c = clos(3072, 64, (3.0,))
    assert c.down_ports[0] == 48 and c.up_ports[0] == 16 and c.tiers == 2
    assert c.bisection_links == 3072 / 3 / 2  # a third of the leaf bandwidth crosses the cut


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"endpoints": 100_000, "radix": 64, "tiers": 2}, "gpus"), ({"endpoints": 64, "radix": 64, "oversubscription": (0.5,)}, "oversubscription")],
)
def test_bad_input(kwargs, field):
    with pytest.raises(InputError) as e:
        clos(**kwargs)
    assert e.value.field == field


@given(
    radix=st.sampled_from([4, 6, 8, 12, 16]),
    endpoints=st.integers(1, 700),
    ratios=st.lists(st.sampled_from([1.0, 1.5, 2.0, 3.0]), min_size=0, max_size=3),
)
def test_closed_form_equals_explicit_graph(radix, endpoints, ratios):
    try:
        c = clos(endpoints, radix, tuple(ratios) or (1.0,))
    except InputError:
        return  # more tiers than allowed for this radix
    g = clos_graph(endpoints, radix, list(c.down_ports[:-1]), list(c.up_ports[:-1]))
    switches, links, ports = graph_counts(g)
    assert tuple(switches[t] for t in sorted(switches)) == c.switches_by_tier
    assert tuple(links[t] for t in sorted(links)) == c.links_by_tier
    assert ports <= radix
    # Worst-case endpoint-to-endpoint path: up to the top tier and down again.
    if c.tiers > 1 and endpoints > c.block_endpoints[-1]:
        import networkx as nx

        far = nx.shortest_path_length(g, ("gpu", 0), ("gpu", endpoints - 1))
        assert far == 2 * c.tiers


@given(
    radix=st.sampled_from([4, 8, 16]),
    blocks=st.integers(1, 6),
    ratios=st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=1, max_size=2),
    tiers=st.sampled_from([2, 3]),
)
def test_bisection_equals_max_flow_on_balanced_builds(radix, blocks, ratios, tiers):
    # Whole, even numbers of top-level blocks, so that half the endpoints is a balanced cut.
    probe = clos(2, radix, tuple(ratios), tiers=tiers)
    per_block = probe.block_endpoints[-1]
    endpoints = 2 * blocks * per_block
    if endpoints > probe.capacity or endpoints > 1200:
        return
    c = clos(endpoints, radix, tuple(ratios), tiers=tiers)
    g = clos_graph(endpoints, radix, list(c.down_ports[:-1]), list(c.up_ports[:-1]))
    assert balanced_cut_links(g, endpoints) == pytest.approx(c.bisection_links)


def test_five_million_endpoints_is_closed_form():
    c = clos(5_000_000, 64)
    assert c.tiers == 5 and c.capacity >= 5_000_000
    assert math.isclose(c.switches_by_tier[0], 5_000_000 / 32)
