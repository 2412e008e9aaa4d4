"""What every query shares: the analysed estate, node lookup with close matches, hops and traversal."""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from iamgraph.edges.base import TRAVERSABLE, DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.build import build_graph
from iamgraph.graph.estate import Estate
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.model.snapshot import Snapshot
from iamgraph.policy.logic import Expr, conj, expr_to_json

__all__ = ["Analysis", "Hop", "NodeNotFound", "hop_json", "reverse_reach", "usable"]

# Who acts as whom: membership is informational (a user's own edges already include its groups').
ACT_AS = frozenset(TRAVERSABLE - {EdgeKind.MEMBER})


class NodeNotFound(InputError):
    """No principal or resource with that ARN or name; the message lists close matches (``candidates``)."""

    def __init__(self, message: str, *, element: str = "", candidates: Iterable[str] = ()) -> None:
        self.candidates = tuple(candidates)
        super().__init__(message, element=element)


@dataclass(slots=True)
class Analysis:
    """A snapshot with its evaluation view and its built graph: the input of every query."""

    snapshot: Snapshot
    estate: Estate
    graph: AccessGraph

    @classmethod
    def of(cls, snapshot: Snapshot) -> Analysis:
        g = build_graph(snapshot)
        return cls(snapshot=snapshot, estate=Estate(snapshot), graph=g)

    def resolve(self, ref: str, *, what: str = "principal or resource") -> str:
        """An ARN, or a unique name (user/role/group/resource name, account id/name) -> node id."""
        g = self.graph.graph
        if ref in g:
            return ref
        if ref.isdigit() and f"arn:aws:iam::{ref}:root" in g:
            return f"arn:aws:iam::{ref}:root"
        named = [n for n, data in g.nodes(data=True) if data.get("name") == ref]
        if not named:  # a resource or entity by its last name part: "my-function", "bucket", "alice"
            named = [n for n in g.nodes if str(n).endswith((f"/{ref}", f":{ref}"))]
        if len(named) == 1:
            return str(named[0])
        if len(named) > 1:
            first = sorted(str(n) for n in named)[:5]
            raise NodeNotFound(f'"{ref}" is ambiguous: {", ".join(first)}', element=what, candidates=first)
        pool = [str(n) for n in g.nodes] + [str(d["name"]) for _, d in g.nodes(data=True) if d.get("name")]
        close = difflib.get_close_matches(ref, pool, n=3, cutoff=0.6)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise NodeNotFound(f'no such {what} "{ref}"{hint}', element=what, candidates=close)


Hop = dict[str, Any]


def hop_json(edge: DerivedEdge, conditions: Expr) -> Hop:
    return {
        "source": edge.source,
        "target": edge.target,
        "kind": edge.kind.value,
        "technique": edge.technique,
        "actions": list(edge.actions),
        "conditions": [] if conditions is True else [expr_to_json(conditions)],
        "proof": [m.to_json() for m in edge.proof],
        **({"via": list(edge.via)} if edge.via else {}),
    }


def usable(edge: DerivedEdge, whatif: WhatIf) -> Expr:
    """The edge's conditions under the what-if (False: the edge does not hold)."""
    return whatif.resolve(edge.conditions)


def _in_edges(g: AccessGraph, node: str, kinds: frozenset[EdgeKind]) -> Iterator[DerivedEdge]:
    for _, _, data in g.graph.in_edges(node, data=True):
        e: DerivedEdge = data["edge"]
        if e.kind in kinds:
            yield e


def reverse_reach(
    g: AccessGraph,
    starts: Iterable[tuple[str, list[tuple[DerivedEdge, Expr]]]],
    whatif: WhatIf,
    max_depth: int,
    deadline: Deadline | None = None,
) -> dict[str, list[tuple[DerivedEdge, Expr]]]:
    """Breadth-first over act-as edges backwards: node -> its shortest path (hops) to a start's target.

    ``starts`` gives, for each node that directly holds the access, its last hop(s).
    """
    best: dict[str, list[tuple[DerivedEdge, Expr]]] = {}
    queue: deque[str] = deque()
    for node, hops in starts:
        if node not in best:
            best[node] = hops
            queue.append(node)
    while queue:
        check(deadline)
        node = queue.popleft()
        path = best[node]
        if len(path) >= max_depth:
            continue
        for e in _in_edges(g, node, ACT_AS):
            if e.source in best:
                continue
            cond = usable(e, whatif)
            if cond is False:
                continue
            best[e.source] = [(e, cond), *path]
            queue.append(e.source)
    return best


def path_conditions(hops: list[tuple[DerivedEdge, Expr]]) -> Expr:
    return conj(c for _, c in hops)
