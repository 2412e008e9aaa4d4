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
from iamgraph.policy.logic import Expr

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
Path = list[tuple[DerivedEdge, Expr]]
# a principal reached (its path, no access hop) or a resource (the path to its holder, and the access hop)
_Candidate = tuple[str, Path, tuple[DerivedEdge, Expr] | None]


def _offer(best: dict[str, tuple[int, _Candidate]], node: str, length: int, candidate: _Candidate) -> None:
    current = best.get(node)
    if current is None or length < current[0]:
        best[node] = (length, candidate)  # a key keeps its place in the dict when its value changes


def _reached_json(g: Any, candidate: _Candidate, hop_json: HopMemo) -> dict[str, Any]:
    target, path, access = candidate
    if access is None:
        return {
            "node": target,
            "kind": str(g.nodes[target].get("kind")),
            "conditional": path_conditional(path),
            "path": [hop_json(e, c) for e, c in path],
        }
    e, cond = access
    full = [*path, (e, cond)]
    return {
        "node": e.target,
        "kind": "resource",
        "actions": list(e.actions),
        "conditional": path_conditional(full),
        "path": [hop_json(x, c) for x, c in full],
    }


def exposure(
    analysis: QueryView, *, whatif: WhatIf | None = None, max_depth: int = 8, deadline: Deadline | None = None
) -> dict[str, Any]:
    whatif = whatif or WhatIf()
    hop_json = HopMemo(analysis.graph)
    g = analysis.graph.graph
    outsiders = []
    findings: list[dict[str, Any]] = []
    public: list[dict[str, Any]] = []
    for node in sorted(g.nodes):
        kind = g.nodes[node].get("kind")
        if kind not in OUTSIDE_KINDS:
            continue
        reach = _forward(analysis, str(node), whatif, max_depth, deadline)
        # node id -> (path length, what to build): the first of the shortest candidates, in the order of
        # first appearance; only the winners become JSON (an outsider that reaches an admin reaches
        # thousands of principals with a thousand access edges each)
        best: dict[str, tuple[int, _Candidate]] = {}
        for target, path in sorted(reach.items()):
            check(deadline)
            if target != node:
                _offer(best, target, len(path), (target, path, None))
            for e in analysis.graph.out_edges_of(target, _ACCESS):
                cond = usable(e, whatif)
                if cond is False:
                    continue
                _offer(best, e.target, len(path) + 1, (target, path, (e, cond)))
                if kind == NodeKind.ANYONE and target == node:
                    full = [*path, (e, cond)]
                    public.append(
                        {
                            "resource": e.target,
                            "actions": list(e.actions),
                            "conditional": path_conditional(full),
                            "path": [hop_json(x, c) for x, c in full],
                        }
                    )
        for _, _, data in g.out_edges(node, data=True):
            findings.extend(_findings(analysis, data["edge"], str(kind)))
        info = g.nodes[node]
        reached = [_reached_json(g, candidate, hop_json) for _, candidate in best.values()]
        outsiders.append(
            {"node": node, "kind": str(kind), "in_organization": info.get("in_organization"), "reaches": reached}
        )
    return {"outsiders": outsiders, "public_resources": public, "findings": findings}
