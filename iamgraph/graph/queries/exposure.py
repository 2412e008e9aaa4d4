"""exposure: what is reachable from outside, and the trusts that make it too easy.

Outside = accounts outside the snapshot (flagged when also outside the organization), their named
principals, federated identity providers and anyone. For each, what it can become and reach, with
paths. Findings: trusts to outside accounts without ``sts:ExternalId`` (or with one any caller meets: a
``*`` pattern, ``IfExists``, a negated operator), OIDC trusts whose ``sub`` is
missing or a wildcard pattern (or without ``aud``), and resources that anyone can reach.
"""

from __future__ import annotations

from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries.base import HopMemo, QueryView, path_conditional, usable
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.privesc import _forward
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.model.policy import ConditionClause

__all__ = ["OUTSIDE_KINDS", "exposure"]

OUTSIDE_KINDS = frozenset({NodeKind.EXTERNAL_ACCOUNT, NodeKind.EXTERNAL_PRINCIPAL, NodeKind.PROVIDER, NodeKind.ANYONE})


def _findings(analysis: QueryView, edge: DerivedEdge, kind: str) -> list[dict[str, Any]]:
    if edge.kind is not EdgeKind.ASSUME:
        return []
    clauses = analysis.trust_conditions(edge)
    found: list[dict[str, Any]] = []
    if kind in (NodeKind.EXTERNAL_ACCOUNT, NodeKind.EXTERNAL_PRINCIPAL):
        ids = [c for c in clauses if c.key_lc == "sts:externalid"]
        if not ids:
            found.append({"finding": "trust-without-external-id", "role": edge.target, "trusted": edge.source})
        elif all(_weak_external_id(c) for c in ids):
            found.append(
                {
                    "finding": "trust-with-weak-external-id",
                    "role": edge.target,
                    "trusted": edge.source,
                    "conditions": [c.to_json() for c in ids],
                }
            )
    if (kind == NodeKind.PROVIDER and "oidc-provider/" in edge.source) or (
        kind == NodeKind.PROVIDER and not edge.source.startswith("arn:")
    ):
        subs = [c for c in clauses if c.key_lc.endswith(":sub")]
        if not subs:
            found.append({"finding": "oidc-trust-without-sub", "role": edge.target, "provider": edge.source})
        elif any("*" in v or "?" in v for c in subs for v in c.values if "Like" in c.base):
            found.append(
                {
                    "finding": "oidc-trust-broad-sub",
                    "role": edge.target,
                    "provider": edge.source,
                    "sub": sorted({v for c in subs for v in c.values}),
                }
            )
        if not any(c.key_lc.endswith(":aud") for c in clauses):
            found.append({"finding": "oidc-trust-without-aud", "role": edge.target, "provider": edge.source})
    if kind == NodeKind.ANYONE:
        found.append({"finding": "trust-to-anyone", "role": edge.target})
    return found


def _weak_external_id(clause: ConditionClause) -> bool:
    """An ExternalId condition any caller meets: absent allowed (``IfExists``, ``Null``), negated, or a
    ``Like`` pattern of wildcards only."""
    base = clause.base.lower()
    if clause.if_exists or base == "null" or "not" in base:
        return True
    return "like" in base and any(v and set(v) <= {"*", "?"} for v in clause.values)


_ACCESS = frozenset({EdgeKind.ACCESS})


def exposure(
    analysis: QueryView, *, whatif: WhatIf | None = None, max_depth: int = 8, deadline: Deadline | None = None
) -> dict[str, Any]:
    whatif = whatif or WhatIf()
    hop_json = HopMemo()
    g = analysis.graph.graph
    outsiders = []
    findings: list[dict[str, Any]] = []
    public: list[dict[str, Any]] = []
    for node in sorted(g.nodes):
        kind = g.nodes[node].get("kind")
        if kind not in OUTSIDE_KINDS:
            continue
        reach = _forward(analysis, str(node), whatif, max_depth, deadline)
        reached: list[dict[str, Any]] = []
        for target, path in sorted(reach.items()):
            check(deadline)
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
                res = e.target
                cond = usable(e, whatif)
                if cond is False:
                    continue
                full = [*path, (e, cond)]
                item = {
                    "node": res,
                    "kind": "resource",
                    "actions": list(e.actions),
                    "conditional": path_conditional(full),
                    "path": [hop_json(x, c) for x, c in full],
                }
                reached.append(item)
                if kind == NodeKind.ANYONE and target == node:
                    public.append(
                        {
                            "resource": res,
                            "actions": list(e.actions),
                            "conditional": item["conditional"],
                            "path": item["path"],
                        }
                    )
        for _, _, data in g.out_edges(node, data=True):
            findings.extend(_findings(analysis, data["edge"], str(kind)))
        info = g.nodes[node]
        shortest: dict[str, dict[str, Any]] = {}
        for found in reached:
            node_id = str(found["node"])
            if node_id not in shortest or len(found["path"]) < len(shortest[node_id]["path"]):
                shortest[node_id] = found
        reached = list(shortest.values())
        outsiders.append(
            {"node": node, "kind": str(kind), "in_organization": info.get("in_organization"), "reaches": reached}
        )
    return {"outsiders": outsiders, "public_resources": public, "findings": findings}
