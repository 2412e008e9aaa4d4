"""exposure keeps only the shortest candidate per node while it walks; its answer is the former one.

The reference is the former loop: one JSON item per reached principal and per (reached principal, access
edge), then the first of the shortest per node id. The new loop must give the very same JSON.
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


def reference_exposure(analysis: Any, whatif: WhatIf, max_depth: int) -> dict[str, Any]:
    hop_json = HopMemo()
    g = analysis.graph.graph
    outsiders, findings, public = [], [], []
    for node in sorted(g.nodes):
        kind = g.nodes[node].get("kind")
        if kind not in OUTSIDE_KINDS:
            continue
        reach = _forward(analysis, str(node), whatif, max_depth)
        reached: list[dict[str, Any]] = []
        for target, path in sorted(reach.items()):
            if target != node:
                reached.append(
                    {
                        "node": target,
                        "kind": str(g.nodes[target].get("kind")),
                        "conditional": path_conditional(path),
                        "path": [hop_json(e, c) for e, c in path],
                    }
                )
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
                reached.append(item)
                if kind == NodeKind.ANYONE and target == node:
                    public.append(
                        {
                            "resource": e.target,
                            "actions": list(e.actions),
                            "conditional": item["conditional"],
                            "path": item["path"],
                        }
                    )
        for _, _, data in g.out_edges(node, data=True):
            findings.extend(_findings(analysis, data["edge"], str(kind)))
        shortest: dict[str, dict[str, Any]] = {}
        for found in reached:
            if found["node"] not in shortest or len(found["path"]) < len(shortest[found["node"]]["path"]):
                shortest[found["node"]] = found
        info = g.nodes[node]
        outsiders.append(
            {
                "node": node,
                "kind": str(kind),
                "in_organization": info.get("in_organization"),
                "reaches": list(shortest.values()),
            }
        )
    return {"outsiders": outsiders, "public_resources": public, "findings": findings}


_KINDS = [NodeKind.ROLE, NodeKind.ROLE, NodeKind.USER, NodeKind.EXTERNAL_ACCOUNT, NodeKind.ANYONE, NodeKind.PROVIDER]


@st.composite
def graphs(draw: st.DrawFn) -> TrustView:
    n = draw(st.integers(1, 8))
    names = [f"n{i}" for i in range(n)]
    kinds = {name: draw(st.sampled_from(_KINDS)) for name in names}
    v = view(draw(edge_lists(names, [EdgeKind.ASSUME, EdgeKind.ESCALATE, EdgeKind.GRANT], 3 * n)), kinds=kinds)
    resources = ["r0", "r1", "n0"]  # n0: a principal that is also a resource (a role)
    for name in resources[:2]:
        v.graph.add_node(node_id(name), NodeKind.RESOURCE, name=name)
    access = st.tuples(st.sampled_from(names), st.sampled_from(resources), st.sampled_from(sorted(CONDITIONS)))
    for i, (src, res, cond) in enumerate(draw(st.lists(access, max_size=2 * n))):
        add_access(v, src, res, cond, f"a{i % 2}")
    return TrustView(v.graph)


@settings(max_examples=400, deadline=None)
@given(v=graphs(), max_depth=st.sampled_from([0, 1, 2, 8]), whatif=st.sampled_from(sorted(WHATIFS)))
def test_same_answer_as_the_former_loop(v: TrustView, max_depth: int, whatif: str) -> None:
    w = WHATIFS[whatif]
    assert exposure(v, whatif=w, max_depth=max_depth) == reference_exposure(v, w, max_depth)
