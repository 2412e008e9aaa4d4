"""Exploring the graph (API and UI): node and edge details with proof, prefix search, neighbourhoods.

Edges are shown as the query hops are (``hop_json``: the proof unchanged), resolved under the what-if.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.model import PRINCIPAL_KINDS
from iamgraph.graph.ondemand import PRINCIPAL_ACCESS_NOTE
from iamgraph.graph.queries.base import Analysis, HopMemo, usable
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.whatif import WhatIf

__all__ = [
    "SearchIndex",
    "check_neighbourhood_bounds",
    "check_search",
    "edge_details",
    "neighbourhood",
    "node_details",
    "search",
]


def _brief(analysis: Analysis, node: str) -> dict[str, Any]:
    data = analysis.graph.graph.nodes[node]
    return {
        "id": node,
        "kind": str(data.get("kind", "")),
        "name": data.get("name"),
        "account": data.get("account"),
        "admin": bool(data.get("admin")),
    }


def node_details(analysis: Analysis, ref: str) -> dict[str, Any]:
    """Every attribute of a node (admin proof included) and its edge counts by kind in each direction."""
    node = analysis.resolve(ref, what="node")
    attrs = {k: (str(v) if k == "kind" else v) for k, v in analysis.graph.graph.nodes[node].items()}
    edges_in, edges_out = analysis.graph.node_edge_counts(node)
    out: dict[str, Any] = {
        "node": {"id": node, **attrs, "admin": bool(attrs.get("admin"))},
        "edges_in": dict(sorted(edges_in.items())),
        "edges_out": dict(sorted(edges_out.items())),
    }
    if analysis.graph.on_demand is not None and attrs.get("kind") in PRINCIPAL_KINDS:
        out["edges_out_note"] = PRINCIPAL_ACCESS_NOTE  # its access edges are not counted: they are not made
    return out


def _holds(cond: object) -> str:
    return "yes" if cond is True else "no" if cond is False else "conditional"


def edge_details(
    analysis: Analysis,
    source: str,
    target: str,
    *,
    kind: EdgeKind | None = None,
    technique: str | None = None,
    whatif: WhatIf | None = None,
) -> dict[str, Any]:
    """Every edge from source to target with its full proof, and whether it holds under the what-if."""
    whatif = whatif or WhatIf()
    s, t = analysis.resolve(source, what="source"), analysis.resolve(target, what="target")
    edges = []
    for e in sorted(analysis.graph.edges_between(s, t), key=lambda e: (e.kind.value, e.technique)):
        if (kind is not None and e.kind is not kind) or (technique is not None and e.technique != technique):
            continue
        edges.append({**e.to_json(), "conditional": e.conditional, "holds": _holds(usable(e, whatif))})
    return {"source": s, "target": t, "edges": edges}


def _incident(
    analysis: Analysis, node: str, within: dict[str, int] | None
) -> Iterator[tuple[str, Iterable[dict[str, Any]]]]:
    """The node's neighbours with the data of the edges between them, out-edges first, then in-edges: all
    of them in the graph's order, or (``within``: node -> position) only those in ``within``, in its order.
    The outermost ring of a neighbourhood adds no node, only the edges between nodes already in: a
    resource there may have thousands of neighbours, of which the walk looks only at those it holds."""
    g = analysis.graph
    for adjacency in (g.out_adjacency(node), g.in_adjacency(node)):
        if within is None:
            yield from adjacency.items()
        elif len(adjacency) < len(within):
            for other in sorted((o for o in adjacency if o in within), key=within.__getitem__):
                yield other, adjacency[other]
        else:
            for other in within:
                if other in adjacency:
                    yield other, adjacency[other]


def check_neighbourhood_bounds(depth: int, limit: int) -> None:
    """The neighbourhood's bounds: both at least 1."""
    if depth < 1 or limit < 1:
        raise InputError("must be at least 1", element="depth/limit")


def neighbourhood(
    analysis: Analysis,
    ref: str,
    *,
    depth: int = 1,
    limit: int = 200,
    whatif: WhatIf | None = None,
    deadline: Deadline | None = None,
) -> dict[str, Any]:
    """Nodes within ``depth`` edges of a node (either direction), at most ``limit`` nodes and 4 edges each."""
    check_neighbourhood_bounds(depth, limit)
    whatif = whatif or WhatIf()
    center = analysis.resolve(ref, what="node")
    dist: dict[str, int] = {center: 0}
    edges: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    max_edges = 4 * limit
    truncated = False
    queue: deque[str] = deque([center])
    hop = HopMemo(analysis.graph)
    ring: dict[str, int] | None = None  # the nodes by position, once the walk is at the outermost ring
    while queue and not truncated:
        check(deadline)
        node = queue.popleft()
        if ring is None and dist[node] >= depth:  # every node is in by now (breadth-first)
            ring = {n: i for i, n in enumerate(dist)}
        for other, found in _incident(analysis, node, ring):
            for data in found:
                e: DerivedEdge = data["edge"]
                cond = usable(e, whatif)
                if cond is False:
                    continue
                if other not in dist:
                    if len(dist) >= limit:
                        truncated = True
                        break
                    dist[other] = dist[node] + 1
                    queue.append(other)
                key = (e.source, e.target, e.kind.value, e.technique)
                if key not in edges:
                    if len(edges) >= max_edges:
                        truncated = True
                        break
                    edges[key] = hop(e, cond)
            if truncated:
                break
    return {
        "center": center,
        "depth": depth,
        "limit": limit,
        "truncated": truncated,
        "nodes": [{**_brief(analysis, n), "distance": d} for n, d in dist.items()],
        "edges": list(edges.values()),
    }


@dataclass(frozen=True, slots=True)
class SearchIndex:
    """Sorted lower-case keys (ARN, name, last part of the ARN) -> node id, for prefix look-ups."""

    keys: tuple[str, ...]
    nodes: tuple[str, ...]

    @classmethod
    def of(cls, analysis: Analysis) -> SearchIndex:
        pairs: set[tuple[str, str]] = set()
        for node, data in analysis.graph.graph.nodes(data=True):
            nid = str(node)
            pairs.add((nid.lower(), nid))
            if data.get("name"):
                pairs.add((str(data["name"]).lower(), nid))
            last = nid.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
            if last:
                pairs.add((last.lower(), nid))
        ordered = sorted(pairs)
        return cls(keys=tuple(k for k, _ in ordered), nodes=tuple(n for _, n in ordered))

    def lookup(self, prefix: str, limit: int) -> tuple[list[str], bool]:
        """Node ids with a key starting with ``prefix`` (exact and shorter keys first); truncated flag."""
        q = prefix.lower()
        found: dict[str, None] = {}
        i = bisect.bisect_left(self.keys, q)
        while i < len(self.keys) and self.keys[i].startswith(q):
            if self.nodes[i] not in found:
                if len(found) >= limit:
                    return list(found), True
                found[self.nodes[i]] = None
            i += 1
        return list(found), False


def check_search(prefix: str, limit: int) -> None:
    """A search's arguments: a prefix that is not empty, a limit of at least 1."""
    if not prefix:
        raise InputError("must not be empty", element="prefix")
    if limit < 1:
        raise InputError("must be at least 1", element="limit")


def search(analysis: Analysis, prefix: str, *, limit: int = 20, index: SearchIndex | None = None) -> dict[str, Any]:
    """Nodes whose ARN, name or last ARN part starts with ``prefix`` (case-insensitive), for autocompletion."""
    check_search(prefix, limit)
    ids, truncated = (index or SearchIndex.of(analysis)).lookup(prefix, limit)
    return {"query": prefix, "truncated": truncated, "matches": [_brief(analysis, n) for n in ids]}
