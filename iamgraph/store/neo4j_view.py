"""A subgraph fetched from Neo4j, rebuilt as an AccessGraph the query code can walk.

Edges are inserted so that every node lists its out-edges and its in-edges in the same order as in the
graph that was loaded (``out_rank`` / ``in_rank``): breadth-first searches then meet equally short
alternatives in the same order, and the answers match the memory store's exactly.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from iamgraph.edges.base import DerivedEdge
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.queries.base import resolve_ref
from iamgraph.model.policy import ConditionClause
from iamgraph.store.codec import clause_from_json, decode_edge

__all__ = ["FetchedView", "build_view", "insertion_order"]


@dataclass(slots=True)
class FetchedView:
    """The query view of a fetched subgraph: its ids are already resolved; trust clauses came along."""

    graph: AccessGraph
    trust: dict[DerivedEdge, list[ConditionClause]] = field(default_factory=dict)

    def resolve(self, ref: str, *, what: str = "principal or resource") -> str:
        g = self.graph.graph
        return resolve_ref(ref, what, exists=lambda n: n in g, named=lambda _: [], suffixed=lambda _: [], pool=list)

    def trust_conditions(self, edge: DerivedEdge) -> list[ConditionClause]:
        return self.trust.get(edge, [])


def insertion_order(edges: Sequence[Mapping[str, Any]]) -> list[int]:
    """An order of the edges that gives each node its original out-edge and in-edge order.

    networkx orders a node's neighbours by the first edge inserted between them; the original insertion
    order satisfies both rank orders, so the constraints (one chain per source, one per target, over
    node pairs) are acyclic and a topological order exists.
    """
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, e in enumerate(edges):
        pairs[(e["s"], e["t"])].append(i)
    keys = list(pairs)
    out_key = [min(edges[i]["p"]["out_rank"] for i in pairs[k]) for k in keys]
    in_key = [min(edges[i]["p"]["in_rank"] for i in pairs[k]) for k in keys]
    chains: dict[tuple[str, str], list[int]] = defaultdict(list)
    for idx, (s, t) in enumerate(keys):
        chains[("out", s)].append(idx)
        chains[("in", t)].append(idx)
    after: list[list[int]] = [[] for _ in keys]
    blocked = [0] * len(keys)
    for (direction, _), members in chains.items():
        members.sort(key=lambda i: out_key[i] if direction == "out" else in_key[i])
        for a, b in itertools.pairwise(members):
            after[a].append(b)
            blocked[b] += 1
    ready = [(out_key[i], in_key[i], i) for i in range(len(keys)) if blocked[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, _, i = heapq.heappop(ready)
        order.extend(sorted(pairs[keys[i]], key=lambda j: edges[j]["p"]["out_rank"]))
        for b in after[i]:
            blocked[b] -= 1
            if blocked[b] == 0:
                heapq.heappush(ready, (out_key[b], in_key[b], b))
    if len(order) != len(edges):  # cannot happen for ranks written by one load; never lose an edge
        seen = set(order)
        order.extend(i for i in range(len(edges)) if i not in seen)
    return order


def build_view(nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]]) -> FetchedView:
    """Nodes (``id``, ``attrs`` JSON, ``seq``) in load order, then edges (``s``, ``t``, ``p`` properties)."""
    g = AccessGraph()
    for n in sorted(nodes, key=lambda n: (n["seq"] if n["seq"] is not None else -1, n["id"])):
        attrs = json.loads(n["attrs"])
        g.graph.add_node(n["id"], **attrs)
    view = FetchedView(graph=g)
    unique: dict[str, Mapping[str, Any]] = {}
    for e in edges:
        unique.setdefault(e["p"]["rid"], e)
    rows = list(unique.values())
    for i in insertion_order(rows):
        e = rows[i]
        edge = decode_edge(e["p"], e["s"], e["t"])
        g.put(edge, e["p"]["rid"])
        if e["p"].get("trust"):
            view.trust[edge] = [clause_from_json(c) for c in json.loads(e["p"]["trust"])]
    return view
