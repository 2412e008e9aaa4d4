"""who-can's backward walk: the level walk over arrays (no what-if) and the edge-by-edge walk (a what-if) agree.

Both must give the very same answer: same principals, same order, same path (same edges) and the same
``conditional`` flag. An inert what-if (a value for a key no condition reads) forces the edge-by-edge
walk without changing any condition. A plain reference (backward breadth-first over act-as edges, the
unconditional walk first) checks the path lengths and flags of both.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_privesc_fast import CONDITIONS, WHATIFS, View, add_access, edge_lists, node_id, view

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries import who_can
from iamgraph.graph.queries.base import ACT_AS, path_conditional
from iamgraph.graph.queries.paths import _nearest_holder
from iamgraph.graph.queries.reach import reverse_sets
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.graph.queries.who_can import holders

INERT = WhatIf(values={"aws:PrincipalOrgID": "o-unrelated"})
TARGET = "bucket"


def _reference(v: View, max_depth: int) -> dict[str, tuple[int, bool]]:
    """principal -> (path length, conditional): shortest over edges that hold outright, else over all."""
    g = v.graph
    starts = [e for e in g.edges(EdgeKind.ACCESS) if e.target == node_id(TARGET)]
    out: dict[str, tuple[int, bool]] = {}
    for firm in (True, False):
        dist: dict[str, tuple[int, bool]] = {}
        queue: deque[str] = deque()
        for e in starts:
            if firm and e.conditions is not True:
                continue
            cond = e.conditions is not True
            if e.source not in dist or (dist[e.source][1] and not cond):
                if e.source not in dist:
                    queue.append(e.source)
                dist[e.source] = (1, cond)
        while queue:
            node = queue.popleft()
            length, cond = dist[node]
            if length >= max_depth:
                continue
            for e in g.in_edges_of(node, ACT_AS):
                if e.source in dist or (firm and e.conditions is not True):
                    continue
                dist[e.source] = (length + 1, cond or e.conditions is not True)
                queue.append(e.source)
        for node, found in dist.items():
            out.setdefault(node, found)
    return out


@st.composite
def graphs(draw: st.DrawFn) -> View:
    n = draw(st.integers(1, 9))
    names = [f"n{i}" for i in range(n)]
    kinds = [EdgeKind.ASSUME, EdgeKind.ESCALATE, EdgeKind.GRANT, EdgeKind.MEMBER]
    v: View = view(draw(edge_lists(names, kinds, 4 * n)), kinds=dict.fromkeys(names, NodeKind.ROLE))
    v.graph.add_node(node_id(TARGET), NodeKind.RESOURCE, name=TARGET)
    holders = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(sorted(CONDITIONS))), max_size=4))
    for i, (name, cond) in enumerate(holders):
        add_access(v, name, TARGET, cond, f"a{i}")
    return v


def _answer(v: View, whatif: WhatIf | None, max_depth: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = who_can(v, node_id(TARGET), whatif=whatif, max_depth=max_depth)["principals"]
    return out


@settings(max_examples=500, deadline=None)
@given(v=graphs(), max_depth=st.sampled_from([1, 2, 3, 8]))
def test_bitset_walk_gives_the_same_answer_as_the_edge_by_edge_walk(v: View, max_depth: int) -> None:
    fast = _answer(v, None, max_depth)
    slow = _answer(v, INERT, max_depth)
    assert fast == slow
    ref = _reference(v, max_depth)
    assert {p["arn"]: (len(p["path"]), p["conditional"]) for p in fast} == ref


@st.composite
def wide_graphs(draw: st.DrawFn) -> View:
    """More nodes and edges than ``graphs``: levels of many nodes, each with several sources, some of them
    reached by the firm walk and passed over by a conditional edge in the same level."""
    n = draw(st.integers(10, 30))
    names = [f"n{i}" for i in range(n)]
    kinds = [EdgeKind.ASSUME, EdgeKind.ESCALATE, EdgeKind.GRANT]
    v: View = view(draw(edge_lists(names, kinds, 6 * n)), kinds=dict.fromkeys(names, NodeKind.ROLE))
    v.graph.add_node(node_id(TARGET), NodeKind.RESOURCE, name=TARGET)
    holders = draw(
        st.lists(st.tuples(st.sampled_from(names), st.sampled_from(sorted(CONDITIONS))), min_size=1, max_size=6)
    )
    for i, (name, cond) in enumerate(holders):
        add_access(v, name, TARGET, cond, f"a{i}")
    return v


@settings(max_examples=200, deadline=None)
@given(v=wide_graphs(), max_depth=st.sampled_from([2, 3, 8]), offset=st.sampled_from([0, 4]))
def test_level_walk_over_wide_levels_gives_the_edge_by_edge_answer(v: View, max_depth: int, offset: int) -> None:
    """Whole and paged (a page's nodes whose parents are not on it), with and without the reverse sets."""
    slow = _answer(v, INERT, max_depth)
    assert _answer(v, None, max_depth) == slow
    assert who_can(v, node_id(TARGET), max_depth=max_depth, limit=5, offset=offset)["principals"] == slow[offset:][:5]
    reverse_sets(v.graph, max_depth - 1)
    assert who_can(v, node_id(TARGET), max_depth=max_depth, limit=5, offset=offset)["principals"] == slow[offset:][:5]
    assert _answer(v, None, max_depth) == slow


@settings(max_examples=300, deadline=None)
@given(v=graphs(), max_depth=st.sampled_from([0, 1, 2, 3, 8]), whatif=st.sampled_from(sorted(WHATIFS)))
def test_can_finds_forwards_the_path_who_can_gives(v: View, max_depth: int, whatif: str) -> None:
    """``can`` looks for the nearest holder from the principal instead of answering who-can whole: same
    principals, same path length, same conditional flag, a contiguous path of real edges."""
    w = WHATIFS[whatif]
    answer = {p["arn"]: p for p in _answer(v, w, max_depth)}
    starts = holders(v.graph, node_id(TARGET), "s3:GetObject", None, w)
    for name in sorted({n for n in v.graph.graph.nodes if n != node_id(TARGET)}):
        found = _nearest_holder(v, name, starts, w, max_depth, None)
        if name not in answer:
            assert found is None, name
            continue
        assert found is not None, name
        assert len(found) == len(answer[name]["path"])
        assert path_conditional(found) == answer[name]["conditional"]
        at = name
        for e, _ in found:
            assert e.source == at
            at = e.target
        assert at == node_id(TARGET)


def test_can_prefers_a_longer_unconditional_way_to_a_nearer_conditional_holder() -> None:
    # p -> a, and a reads the bucket only with MFA; p -> b -> c, and c reads it outright
    v: View = view(
        [("p", "a", EdgeKind.ASSUME, "none"), ("p", "b", EdgeKind.ASSUME, "none"), ("b", "c", EdgeKind.ASSUME, "none")]
    )
    v.graph.add_node(node_id(TARGET), NodeKind.RESOURCE, name=TARGET)
    for i, (name, cond) in enumerate([("a", "mfa"), ("c", "none")]):
        add_access(v, name, TARGET, cond, f"a{i}")
    found = _nearest_holder(v, node_id("p"), holders(v.graph, node_id(TARGET), None, None, WhatIf()), WhatIf(), 8, None)
    assert found is not None and [e.target for e, _ in found] == [node_id("b"), node_id("c"), node_id(TARGET)]
    assert not path_conditional(found)
    (who,) = [p for p in _answer(v, None, 8) if p["arn"] == node_id("p")]
    assert len(who["path"]) == 3 and who["conditional"] is False


@settings(max_examples=400, deadline=None)
@given(
    v=graphs(),
    max_depth=st.sampled_from([0, 1, 2, 3, 8]),
    limit=st.sampled_from([None, 0, 1, 2, 5]),
    offset=st.sampled_from([0, 1, 3]),
)
def test_reverse_sets_kept_on_the_graph_give_the_same_pages(
    v: View, max_depth: int, limit: int | None, offset: int
) -> None:
    """With the reverse sets of the graph's depth at hand, who-can walks only as deep as its page and counts
    the rest from the sets: every page is the same slice of the whole answer, with the same total."""
    whole = who_can(v, node_id(TARGET), max_depth=max_depth)
    assert whole["principals"] == _answer(v, INERT, max_depth)
    end = None if limit is None else offset + limit
    reverse_sets(v.graph, max(max_depth - 1, 0))
    for hops in (max_depth - 2, max_depth):  # sets of another depth are never used for counting
        if hops >= 0:
            reverse_sets(v.graph, hops)
    paged = who_can(v, node_id(TARGET), max_depth=max_depth, limit=limit, offset=offset)
    assert paged["principals"] == whole["principals"][offset:end]
    assert paged["total"] == whole["total"] == len(whole["principals"])
    assert paged["truncated"] == (offset + len(paged["principals"]) < whole["total"])
    v.graph.query_memo.clear()
    assert who_can(v, node_id(TARGET), max_depth=max_depth, limit=limit, offset=offset) == paged


def test_equally_short_ways_take_the_parent_the_edge_by_edge_walk_takes() -> None:
    """z reaches the holder h through x or through y, both found from h: the path goes through the one
    queued first (x, whose edge onto h comes first), with or without the reverse sets."""
    edges = [("x", "h"), ("y", "h"), ("z", "x"), ("z", "y"), ("w", "y"), ("w", "x")]
    v: View = view([(s, t, EdgeKind.ASSUME, "none") for s, t in edges])
    v.graph.add_node(node_id(TARGET), NodeKind.RESOURCE, name=TARGET)
    add_access(v, "h", TARGET, "none", "a0")
    slow = _answer(v, INERT, 8)
    via = {p["arn"]: p["path"][0]["target"] for p in slow if len(p["path"]) == 3}
    assert via == {node_id("z"): node_id("x"), node_id("w"): node_id("x")}
    assert _answer(v, None, 8) == slow
    reverse_sets(v.graph, 7)
    assert _answer(v, None, 8) == slow


def test_a_level_keeps_the_order_the_walk_queues_it_in_not_the_nodes_order() -> None:
    """A node's in-edges come kind by kind: h's assume edges (from a, then y) before its escalation edge
    (from x). So the walk queues y before x, though x comes before y among the nodes; z, which acts as both,
    takes y as its parent, as the edge-by-edge walk does, and so does w, one level further, through z."""
    edges = [
        ("a", "h", EdgeKind.ASSUME),
        ("y", "h", EdgeKind.ASSUME),
        ("x", "h", EdgeKind.ESCALATE),
        ("z", "x", EdgeKind.ASSUME),
        ("z", "y", EdgeKind.ASSUME),
        ("w", "z", EdgeKind.ASSUME),
    ]
    v: View = view([(s, t, kind, "none") for s, t, kind in edges])
    v.graph.add_node(node_id(TARGET), NodeKind.RESOURCE, name=TARGET)
    add_access(v, "h", TARGET, "none", "a0")
    slow = _answer(v, INERT, 8)
    hops = {p["arn"]: [hop["target"] for hop in p["path"]] for p in slow}
    assert hops[node_id("z")] == [node_id("y"), node_id("h"), node_id(TARGET)]
    assert hops[node_id("w")] == [node_id("z"), node_id("y"), node_id("h"), node_id(TARGET)]
    assert _answer(v, None, 8) == slow
    reverse_sets(v.graph, 7)
    assert _answer(v, None, 8) == slow
