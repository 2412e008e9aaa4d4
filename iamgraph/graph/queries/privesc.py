"""privesc: principals that are not admin but can reach admin, with a path each; the admins listed.

A principal escalates when, acting as itself or as anyone it can become (assume / escalate edges), it
reaches an admin, or holds a ``grant`` edge onto a principal it can act as (it can give that principal
any permission, then use it).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.model import PRINCIPAL_KINDS, NodeKind
from iamgraph.graph.queries.base import ACT_AS, HopMemo, QueryView, usable
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.policy.logic import Expr, conj

__all__ = ["privesc"]

Path = list[tuple[DerivedEdge, Expr]]
# principals of the estate, and outsiders (their escalations are the worst findings)
ESCALATING_KINDS = PRINCIPAL_KINDS | {
    NodeKind.EXTERNAL_ACCOUNT,
    NodeKind.EXTERNAL_PRINCIPAL,
    NodeKind.PROVIDER,
    NodeKind.ANYONE,
}


_GRANT = frozenset({EdgeKind.GRANT})


def _forward(
    analysis: QueryView,
    src: str,
    whatif: WhatIf,
    max_depth: int,
    deadline: Deadline | None = None,
    *,
    unconditional: bool = False,
) -> dict[str, Path]:
    """Shortest paths from ``src`` over act-as edges (breadth-first); ``unconditional``: only over edges
    whose conditions hold outright under the what-if."""
    g = analysis.graph
    best: dict[str, Path] = {src: []}
    queue: deque[str] = deque([src])
    while queue:
        check(deadline)
        node = queue.popleft()
        if len(best[node]) >= max_depth:
            continue
        for e in g.out_edges_of(node, ACT_AS):
            if e.target in best:
                continue
            cond = usable(e, whatif)
            if cond is False or (unconditional and cond is not True):
                continue
            best[e.target] = [*best[node], (e, cond)]
            queue.append(e.target)
    return best


def _escalation(
    analysis: QueryView, src: str, whatif: WhatIf, max_depth: int, deadline: Deadline | None = None
) -> Path | None:
    """The shortest unconditional way to admin (or to a grant onto a principal it can act as) when there is
    one, else the shortest conditional one. Walking the unconditional edges first finds an unconditional
    path even where a shorter conditional edge reaches the same principal first."""
    g = analysis.graph.graph
    for unconditional in (True, False):
        reach = _forward(analysis, src, whatif, max_depth, deadline, unconditional=unconditional)
        best: Path | None = None
        for node, path in reach.items():
            if node != src and g.nodes[node].get("admin") and (best is None or len(path) < len(best)):
                best = path
            if best is not None and len(path) + 1 >= len(best):
                continue  # a grant from here would not be shorter
            for e in analysis.graph.out_edges_of(node, _GRANT):
                if e.target not in reach:
                    continue
                cond = usable(e, whatif)
                if cond is False or (unconditional and cond is not True):
                    continue
                best = [*path, (e, cond)]
                break
        if best is not None:
            return best
    return None


def privesc(
    analysis: QueryView, *, whatif: WhatIf | None = None, max_depth: int = 8, deadline: Deadline | None = None
) -> dict[str, Any]:
    whatif = whatif or WhatIf()
    hop_json = HopMemo()
    g = analysis.graph.graph
    admins = sorted(str(n) for n in g.nodes if g.nodes[n].get("admin"))
    escalations = []
    for node in sorted(g.nodes):
        if g.nodes[node].get("kind") not in ESCALATING_KINDS or g.nodes[node].get("admin"):
            continue
        path = _escalation(analysis, str(node), whatif, max_depth, deadline)
        if path is None:
            continue
        cond = conj(c for _, c in path)
        escalations.append(
            {"principal": node, "conditional": cond is not True, "path": [hop_json(e, c) for e, c in path]}
        )
    return {"admins": admins, "escalations": escalations}
