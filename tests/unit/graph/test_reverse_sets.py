"""The reverse act-as sets a server keeps on its graph: right against a plain walk, and never changing an
answer: path (shortest and all), can's nearest holder and who-can give the same with and without them."""

from __future__ import annotations

from collections import deque
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_privesc_fast import View, add_access, node_id, view
from test_who_can_walk import INERT, TARGET, graphs

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries import find_paths, who_can
from iamgraph.graph.queries.base import ACT_AS
from iamgraph.graph.queries.paths import _nearest_holder
from iamgraph.graph.queries.reach import known_reverse_sets, reverse_sets
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.graph.queries.who_can import holders


def _acting_as(v: View, target: str, hops: int, firm: bool) -> set[str]:
    """Plain reference: the nodes with a way of at most ``hops`` act-as edges onto ``target``."""
    dist = {target: 0}
    queue = deque([target])
    while queue:
        node = queue.popleft()
        if dist[node] >= hops:
            continue
        for e in v.graph.in_edges_of(node, ACT_AS):
            if e.conditions is False or (firm and e.conditions is not True) or e.source in dist:
                continue
            dist[e.source] = dist[node] + 1
            queue.append(e.source)
    return set(dist)


@settings(max_examples=300, deadline=None)
@given(v=graphs(), hops=st.sampled_from([0, 1, 2, 3, 7]))
def test_reverse_sets_are_who_can_act_as_each_node(v: View, hops: int) -> None:
    sets = reverse_sets(v.graph, hops)
    names = v.graph.names()
    for node, i in v.graph.numbers().items():
        for firm in (True, False):
            got = {names[b] for b in range(len(names)) if sets.union([i], firm=firm) >> b & 1}
            assert got == _acting_as(v, node, hops, firm), (node, firm)
    assert known_reverse_sets(v.graph, hops, exact=True) is sets
    assert known_reverse_sets(v.graph, max(hops - 1, 0)) is sets
    assert known_reverse_sets(v.graph, hops + 1) is None


def _plain_shortest(v: View, src: str, dst: str, max_depth: int) -> list[tuple[str, str, str]] | None:
    """Plain reference: breadth-first over act-as edges and the access edges onto ``dst``, in the graph's
    order, the path read when ``dst`` is taken off the queue."""
    g = v.graph
    prev: dict[str, tuple[str, Any] | None] = {src: None}
    queue = deque([(src, 0)])
    while queue:
        node, depth = queue.popleft()
        if node == dst:
            path = []
            while (step := prev[node]) is not None:
                path.append((step[1].source, step[1].target, step[1].technique))
                node = step[0]
            return path[::-1] or None
        if depth >= max_depth:
            continue
        last = [e for e in g.edges_between(node, dst) if e.kind is EdgeKind.ACCESS]
        for e in [*g.out_edges_of(node, ACT_AS), *last]:
            if e.conditions is not False and e.target not in prev:
                prev[e.target] = (node, e)
                queue.append((e.target, depth + 1))
    return None


def _answers(v: View, src: str, max_depth: int) -> list[object]:
    """Shortest and all paths from ``src`` to the bucket and to two principals, and can's nearest holder."""
    starts = holders(v.graph, node_id(TARGET), None, None, WhatIf())
    ends = sorted({node_id(TARGET), *(str(n) for n in v.graph.graph.nodes)})
    out: list[object] = [_nearest_holder(v, src, starts, WhatIf(), max_depth, None)]
    for dst in (ends[0], ends[-1], node_id(TARGET)):
        for all_paths in (False, True):
            out.append(find_paths(v, src, dst, max_depth=max_depth, all_paths=all_paths, limit=3))
        (shortest,) = out[-2]["paths"] or [None]  # type: ignore[index]
        hops = [(h["source"], h["target"], h["technique"]) for h in shortest["hops"]] if shortest else None
        assert hops == _plain_shortest(v, src, dst, max_depth), (src, dst)
    return out


@settings(max_examples=300, deadline=None)
@given(v=graphs(), max_depth=st.sampled_from([1, 2, 3, 6]), extra=st.sampled_from([0, 1, 3]))
def test_the_sets_change_no_path_and_no_nearest_holder(v: View, max_depth: int, extra: int) -> None:
    """Sets as deep as the walk or deeper only leave out nodes that cannot get to the target; shallower
    ones are not used. Every principal's answer is the same with them as without them."""
    names = sorted(n for n in v.graph.graph.nodes if n != node_id(TARGET))
    before = {n: _answers(v, n, max_depth) for n in names}
    whole = who_can(v, node_id(TARGET), max_depth=max_depth)
    reverse_sets(v.graph, max_depth + extra - 1)
    for n in names:
        assert _answers(v, n, max_depth) == before[n], n
    assert who_can(v, node_id(TARGET), max_depth=max_depth) == whole
    assert who_can(v, node_id(TARGET), max_depth=max_depth, whatif=INERT) == whole


def test_a_node_with_few_new_targets_queues_them_in_its_edges_order() -> None:
    """p1's edges go to seven nodes already seen, then to c and d (new): c is queued first, so the path to
    the bucket goes through c, as the edge-by-edge walk finds it, with or without the sets."""
    pairs = [("src", f"p{i}") for i in range(1, 9)] + [("p1", f"p{i}") for i in range(2, 9)]
    pairs += [("p1", "c"), ("p1", "d"), ("d", "h"), ("c", "h")]
    v: View = view([(s, t, EdgeKind.ASSUME, "none") for s, t in pairs])
    v.graph.add_node(node_id(TARGET), NodeKind.RESOURCE, name=TARGET)
    add_access(v, "h", TARGET, "none", "a0")
    want = [(node_id(s), node_id(t)) for s, t in [("src", "p1"), ("p1", "c"), ("c", "h"), ("h", TARGET)]]
    for made in (False, True):
        if made:
            reverse_sets(v.graph, 6)
        (found,) = find_paths(v, node_id("src"), node_id(TARGET), max_depth=6)["paths"]
        assert [(h["source"], h["target"]) for h in found["hops"]] == want
        plain = _plain_shortest(v, node_id("src"), node_id(TARGET), 6)
        assert plain is not None and [(s, t) for s, t, _ in plain] == want


def _hops(found: list[Any] | None) -> list[tuple[int, object]] | None:
    return None if found is None else [(id(e), c) for e, c in found]


@settings(max_examples=300, deadline=None)
@given(v=graphs(), max_depth=st.sampled_from([1, 2, 3, 8]))
def test_the_nearest_holder_bitset_walk_takes_the_very_edges_of_the_edge_by_edge_walk(v: View, max_depth: int) -> None:
    """Without a what-if, can's forward walk passes over seen targets with bitsets; with an inert one it
    reads every edge. Same edges, same conditions, for every principal (parents and order included)."""
    starts = holders(v.graph, node_id(TARGET), None, None, WhatIf())
    inert_starts = holders(v.graph, node_id(TARGET), None, None, INERT)
    for name in sorted(n for n in v.graph.graph.nodes if n != node_id(TARGET)):
        fast = _nearest_holder(v, name, starts, WhatIf(), max_depth, None)
        slow = _nearest_holder(v, name, inert_starts, INERT, max_depth, None)
        assert _hops(fast) == _hops(slow), name


def test_the_outright_walk_takes_a_targets_first_outright_edge_in_the_edges_order() -> None:
    # p's edges in order: -> a (MFA), -> b (outright), -> a (outright). The outright walk reaches b first,
    # then a by its second edge; grouped by target, a would come first (its first edge is before b's).
    v: View = view(
        [
            ("p", "a", EdgeKind.ASSUME, "mfa"),
            ("p", "b", EdgeKind.ASSUME, "none"),
            ("p", "a", EdgeKind.ESCALATE, "none"),
            ("a", "x", EdgeKind.ASSUME, "none"),
            ("b", "x", EdgeKind.ASSUME, "none"),
        ]
    )
    v.graph.add_node(node_id(TARGET), NodeKind.RESOURCE, name=TARGET)
    add_access(v, "x", TARGET, "none", "a0")
    starts = holders(v.graph, node_id(TARGET), None, None, WhatIf())
    found = _nearest_holder(v, node_id("p"), starts, WhatIf(), 8, None)
    assert found is not None and [e.target for e, _ in found] == [node_id("b"), node_id("x"), node_id(TARGET)]
    inert = _nearest_holder(v, node_id("p"), holders(v.graph, node_id(TARGET), None, None, INERT), INERT, 8, None)
    assert _hops(found) == _hops(inert)
