"""who-can RESOURCE [--action A | --access-level L]: every principal that can, with its shortest path."""

from __future__ import annotations

from typing import Any

from iamgraph.catalog import get_catalog
from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.queries.base import HopMemo, QueryView, path_conditional, reverse_reach, usable
from iamgraph.graph.queries.budget import Deadline
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.policy.logic import Expr

__all__ = ["check_grant", "holders", "who_can"]

_ACCESS = frozenset({EdgeKind.ACCESS})
LEVELS = ("List", "Read", "Write", "Permissions management", "Tagging")


def _grants(edge: DerivedEdge, action: str | None, level: str | None) -> bool:
    if action is not None:
        return action.lower() in {a.lower() for a in edge.actions}
    if level is not None:
        return bool(edge.access.get(level))
    return True


def check_grant(action: str | None, access_level: str | None) -> None:
    """An action the catalog knows, an access level of the five: else a one-line input error."""
    if action is not None and not get_catalog().is_known_action(action):
        raise InputError(f'unknown action "{action}"', element="--action")
    if access_level is not None and access_level not in LEVELS:
        raise InputError(f'"{access_level}" is not one of {", ".join(LEVELS)}', element="--access-level")


def holders(
    g: AccessGraph, target: str, action: str | None, access_level: str | None, whatif: WhatIf
) -> dict[str, list[tuple[DerivedEdge, Expr]]]:
    """The nodes with an access edge onto ``target`` that grants it, each with that edge as its last hop:
    one that holds outright when there is one, else the first that may hold."""
    starts: dict[str, list[tuple[DerivedEdge, Expr]]] = {}
    for e in g.in_edges_of(target, _ACCESS):
        if not _grants(e, action, access_level):
            continue
        cond = usable(e, whatif)
        if cond is False:
            continue
        current = starts.get(e.source)
        if current is None or (current[0][1] is not True and cond is True):
            starts[e.source] = [(e, cond)]
    return starts


def who_can(
    analysis: QueryView,
    resource: str,
    *,
    action: str | None = None,
    access_level: str | None = None,
    whatif: WhatIf | None = None,
    max_depth: int = 8,
    limit: int | None = None,
    offset: int = 0,
    deadline: Deadline | None = None,
) -> dict[str, Any]:
    """Principals (and outsiders) that can perform the action on the resource, directly or via a chain:
    nearest first (then by ARN), ``limit`` of them (all when None) from ``offset``; ``total`` counts all."""
    if (limit is not None and limit < 0) or offset < 0:
        raise ValueError("limit and offset must be >= 0")
    whatif = whatif or WhatIf()
    hop_json = HopMemo(analysis.graph)
    target = analysis.resolve(resource, what="resource")
    check_grant(action, access_level)
    g = analysis.graph
    starts = holders(g, target, action, access_level, whatif)
    # an unconditional way in wins over a shorter conditional one: walk the unconditional part first
    firm = {node: hops for node, hops in starts.items() if hops[0][1] is True}
    reach, passed_over = reverse_reach(g, firm.items(), whatif, max_depth, deadline, unconditional=True)
    if passed_over or len(firm) < len(starts):  # else the walk over every usable edge finds nothing more
        for node, hops in reverse_reach(g, starts.items(), whatif, max_depth, deadline)[0].items():
            reach.setdefault(node, hops)
    nodes = g.graph.nodes
    principals = []
    ordered = sorted(reach.items(), key=lambda kv: (len(kv[1]), kv[0]))
    page = ordered[offset:] if limit is None else ordered[offset : offset + limit]
    for node, hops in page:
        principals.append(
            {
                "arn": node,
                "kind": str(nodes[node].get("kind", "")),
                "conditional": path_conditional(hops),
                "path": [hop_json(e, c) for e, c in hops],
            }
        )
    return {
        "resource": target,
        "action": action,
        "access_level": access_level,
        "principals": principals,
        "total": len(ordered),
        "offset": offset,
        "limit": limit,
        "truncated": offset + len(principals) < len(ordered),
    }
