"""The neighbourhood walk looks at its outermost ring only for the edges between nodes already in: the same
answer as the plain edge-by-edge walk (same nodes, same edges, same truncation) on generated graphs. The
plain walk lists the outermost ring's edges of each node by the position of the other node (out-edges, then
in-edges), as the walk does."""

from __future__ import annotations

from collections import deque
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_privesc_fast import WHATIFS, View, node_id, view
from test_who_can_walk import TARGET, graphs

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.queries.base import hop_json, usable
from iamgraph.graph.queries.explore import _brief, neighbourhood
from iamgraph.graph.queries.whatif import WhatIf


def _reference(v: View, center: str, depth: int, limit: int, whatif: WhatIf) -> dict[str, Any]:
    g = v.graph.graph
    dist = {center: 0}
    edges: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    truncated = False
    queue = deque([center])
    while queue and not truncated:
        node = queue.popleft()
        outs = list(g.out_edges(node, data=True))
        ins = list(g.in_edges(node, data=True))
        if dist[node] >= depth:  # the outermost ring: by the other node's position
            order = list(dist)
            outs = sorted((x for x in outs if x[1] in dist), key=lambda x: order.index(x[1]))
            ins = sorted((x for x in ins if x[0] in dist), key=lambda x: order.index(x[0]))
        incident = [d["edge"] for _, _, d in outs] + [d["edge"] for _, _, d in ins]
        for e in incident:
            cond = usable(e, whatif)
            if cond is False:
                continue
            other = e.target if e.source == node else e.source
            if other not in dist:
                if dist[node] >= depth:
                    continue
                if len(dist) >= limit:
                    truncated = True
                    break
                dist[other] = dist[node] + 1
                queue.append(other)
            key = (e.source, e.target, e.kind.value, e.technique)
            if key not in edges:
                if len(edges) >= 4 * limit:
                    truncated = True
                    break
                edges[key] = hop_json(e, cond)
    return {
        "center": center,
        "depth": depth,
        "limit": limit,
        "truncated": truncated,
        "nodes": [{**_brief(v, n), "distance": d} for n, d in dist.items()],
        "edges": list(edges.values()),
    }


@settings(max_examples=300, deadline=None)
@given(
    v=graphs(),
    depth=st.sampled_from([1, 2, 3]),
    limit=st.sampled_from([1, 2, 3, 5, 50]),
    whatif=st.sampled_from(sorted(WHATIFS)),
)
def test_the_neighbourhood_is_the_plain_walks(v: View, depth: int, limit: int, whatif: str) -> None:
    w = WHATIFS[whatif]
    for center in sorted(str(n) for n in v.graph.graph.nodes):
        assert neighbourhood(v, center, depth=depth, limit=limit, whatif=w) == _reference(v, center, depth, limit, w)
    assert node_id(TARGET) in v.graph.graph


def test_a_hub_in_the_outermost_ring_lists_its_edges_by_the_other_nodes_position() -> None:
    """``a`` has more neighbours than the neighbourhood has nodes: its edges onto b and d (found only at
    the outermost ring) are looked up from the ring's side and listed by b's and d's positions, not in the
    order they were added (d, then b)."""
    pairs = [("c", "a"), ("c", "b"), ("c", "d"), ("a", "d"), ("a", "b"), ("a", "x1"), ("a", "x2"), ("a", "x3")]
    v: View = view([(s, t, EdgeKind.ASSUME, "none") for s, t in pairs])
    got = neighbourhood(v, node_id("c"), depth=1, limit=10)
    assert got == _reference(v, node_id("c"), 1, 10, WhatIf())
    ring_edges = [h["target"] for h in got["edges"] if h["source"] == node_id("a")]
    assert ring_edges == [node_id("b"), node_id("d")]
