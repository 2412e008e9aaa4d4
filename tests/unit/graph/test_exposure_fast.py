"""exposure against a plain reference on many small generated graphs: the same JSON, limited or not.

The reference walks everything an outsider reaches, lists every candidate (a principal, or a node held by
one) in the answer's order, keeps the first per node and counts from the full list; the query counts
with bitsets and stops walking once its limit is listed and its admins are found.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_privesc_fast import CONDITIONS, WHATIFS, View, add_access, edge_lists, node_id, view

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries import exposure
from iamgraph.graph.queries.base import HopMemo, path_conditional, usable
from iamgraph.graph.queries.exposure import OUTSIDE_KINDS, _findings
from iamgraph.graph.queries.privesc import _forward
from iamgraph.graph.queries.whatif import WhatIf

_ACCESS = frozenset({EdgeKind.ACCESS})


class TrustView(View):
    def trust_conditions(self, edge: DerivedEdge) -> list[Any]:
        return []


def _account(g: Any, node: str) -> str:
    return str(g.nodes[node].get("account") or "(none)")


def reference_exposure(analysis: Any, whatif: WhatIf, max_depth: int, limit: int | None = None) -> dict[str, Any]:
    """Plain: the whole forward walk, every candidate in turn (the nodes held by depth ``d`` before the
    principals of depth ``d + 1``), the first candidate per node kept; counts from the full list."""
    hop_json = HopMemo()
    g = analysis.graph.graph
    outsiders, findings, public = [], [], []
    for node in sorted(g.nodes):
        kind = g.nodes[node].get("kind")
        if kind not in OUTSIDE_KINDS:
            continue
        reach = _forward(analysis, str(node), whatif, max_depth)  # breadth-first order: by depth
        depth_of = {target: len(path) for target, path in reach.items()}
        candidates: list[dict[str, Any]] = []
        for d in range(max(depth_of.values()) + 1):
            for target, path in reach.items():
                if depth_of[target] != d:
                    continue
                for e in analysis.graph.out_edges_of(target, _ACCESS):
                    cond = usable(e, whatif)
                    if cond is False:
                        continue
                    full = [*path, (e, cond)]
                    item = {
                        "node": e.target,
                        "kind": "resource",
                        "actions": list(e.actions),
                        "conditional": path_conditional(full),
                        "path": [hop_json(x, c) for x, c in full],
                    }
                    candidates.append(item)
                    if kind == NodeKind.ANYONE and target == node:
                        public.append(
                            {
                                "resource": e.target,
                                "actions": list(e.actions),
                                "conditional": item["conditional"],
                                "path": item["path"],
                            }
                        )
            for target, path in reach.items():
                if depth_of[target] == d + 1:
                    candidates.append(
                        {
                            "node": target,
                            "kind": str(g.nodes[target].get("kind")),
                            "conditional": path_conditional(path),
                            "path": [hop_json(e, c) for e, c in path],
                        }
                    )
        for _, _, data in g.out_edges(node, data=True):
            findings.extend(_findings(analysis, data["edge"], str(kind)))
        first: dict[str, dict[str, Any]] = {}
        for found in candidates:
            if found["node"] != node:
                first.setdefault(found["node"], found)
        principals = {t for t in reach if t != node}
        resources = set(first) - principals
        by_account: dict[str, dict[str, int]] = {}
        for names, field in ((principals, "principals"), (resources, "resources")):
            for name in names:
                by_account.setdefault(_account(g, name), {"principals": 0, "resources": 0})[field] += 1
        admins = [t for t in reach if t != node and g.nodes[t].get("admin")]
        listed_admins = admins if limit is None else admins[:limit]
        listed = list(first.values())
        info = g.nodes[node]
        outsiders.append(
            {
                "node": node,
                "kind": str(kind),
                "in_organization": info.get("in_organization"),
                "reached": {
                    "principals": len(principals),
                    "resources": len(resources),
                    "admins": len(admins),
                    "by_account": dict(sorted(by_account.items())),
                },
                "admins": [
                    {
                        "node": a,
                        "conditional": path_conditional(reach[a]),
                        "path": [hop_json(e, c) for e, c in reach[a]],
                    }
                    for a in listed_admins
                ],
                "reaches": listed if limit is None else listed[:limit],
                "truncated": limit is not None and len(listed) > limit,
            }
        )
    return {"outsiders": outsiders, "public_resources": public, "findings": findings, "limit": limit}


_KINDS = [NodeKind.ROLE, NodeKind.ROLE, NodeKind.USER, NodeKind.EXTERNAL_ACCOUNT, NodeKind.ANYONE, NodeKind.PROVIDER]


@st.composite
def graphs(draw: st.DrawFn) -> TrustView:
    n = draw(st.integers(1, 8))
    names = [f"n{i}" for i in range(n)]
    kinds = {name: draw(st.sampled_from(_KINDS)) for name in names}
    admins = set(draw(st.lists(st.sampled_from(names), max_size=2)))
    edges = draw(edge_lists(names, [EdgeKind.ASSUME, EdgeKind.ESCALATE, EdgeKind.GRANT], 3 * n))
    v = view(edges, admins=admins, kinds=kinds)
    resources = ["r0", "r1", "n0"]  # n0: a principal that is also a resource (a role)
    for name in resources[:2]:
        v.graph.add_node(node_id(name), NodeKind.RESOURCE, name=name)
    access = st.tuples(st.sampled_from(names), st.sampled_from(resources), st.sampled_from(sorted(CONDITIONS)))
    for i, (src, res, cond) in enumerate(draw(st.lists(access, max_size=2 * n))):
        add_access(v, src, res, cond, f"a{i % 2}")
    for node in v.graph.graph.nodes:  # two accounts, for the counts by account
        v.graph.graph.nodes[node]["account"] = draw(st.sampled_from(["111122223333", "444455556666"]))
    return TrustView(v.graph)


@settings(max_examples=500, deadline=None)
@given(
    v=graphs(),
    max_depth=st.sampled_from([0, 1, 2, 8]),
    whatif=st.sampled_from(sorted(WHATIFS)),
    limit=st.sampled_from([None, 0, 1, 2, 5]),
)
def test_same_answer_as_the_plain_walk(v: TrustView, max_depth: int, whatif: str, limit: int | None) -> None:
    w = WHATIFS[whatif]
    assert exposure(v, whatif=w, max_depth=max_depth, limit=limit) == reference_exposure(v, w, max_depth, limit)


@settings(max_examples=200, deadline=None)
@given(v=graphs(), limit=st.sampled_from([0, 1, 3]))
def test_a_limited_answer_is_the_head_of_the_full_one_and_counts_stay(v: TrustView, limit: int) -> None:
    full, head = exposure(v), exposure(v, limit=limit)
    for whole, part in zip(full["outsiders"], head["outsiders"], strict=True):
        assert part["reaches"] == whole["reaches"][:limit]
        assert part["reached"] == whole["reached"] and part["admins"] == whole["admins"][:limit]
        total = whole["reached"]["principals"] + whole["reached"]["resources"]
        assert total == len(whole["reaches"]) and not whole["truncated"]
        assert part["truncated"] == (total > limit)


def test_counts_are_kept_on_the_graph_and_dropped_with_a_new_edge() -> None:
    v = view([("a", "b", EdgeKind.ASSUME, "none")], kinds={"a": NodeKind.EXTERNAL_ACCOUNT, "b": NodeKind.ROLE})
    v.graph.add_node(node_id("r0"), NodeKind.RESOURCE, name="r0")
    add_access(v, "b", "r0", "none", "a0")
    tv = TrustView(v.graph)
    assert exposure(tv)["outsiders"][0]["reached"]["resources"] == 1
    assert v.graph.query_memo  # kept for the next query without a what-if
    v.graph.add_node(node_id("r1"), NodeKind.RESOURCE, name="r1")
    add_access(v, "b", "r1", "mfa", "a1")
    assert not v.graph.query_memo
    assert exposure(tv)["outsiders"][0]["reached"]["resources"] == 2
    assert exposure(tv, whatif=WHATIFS["deny"])["outsiders"][0]["reached"]["resources"] == 1
