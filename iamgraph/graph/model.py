"""The access graph: a networkx MultiDiGraph of nodes (principals, resources, outsiders) and DerivedEdges.

Node ids are ARNs (``*`` for anyone, the service name for AWS services, the provider ARN or host for
federated providers). Every edge carries its DerivedEdge under the attribute ``edge``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import networkx as nx

from iamgraph.edges.base import DerivedEdge, EdgeKind

__all__ = ["AccessGraph", "NodeKind"]


class NodeKind(StrEnum):
    ACCOUNT = "account"  # the root user of an account of the snapshot
    USER = "user"
    GROUP = "group"
    ROLE = "role"
    RESOURCE = "resource"
    EXTERNAL_ACCOUNT = "external_account"  # an account outside the snapshot (or outside the organization)
    EXTERNAL_PRINCIPAL = "external_principal"  # a named user/role of such an account
    SERVICE = "service"
    PROVIDER = "provider"  # SAML / OIDC identity provider
    ANYONE = "anyone"


PRINCIPAL_KINDS = frozenset({NodeKind.ACCOUNT, NodeKind.USER, NodeKind.ROLE})


@dataclass(slots=True)
class AccessGraph:
    graph: nx.MultiDiGraph[str] = field(default_factory=nx.MultiDiGraph)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # out-edges by node and kind, built on first use by ``out_edges_of`` and dropped by every edge added
    _by_kind: dict[str, dict[EdgeKind, list[DerivedEdge]]] | None = field(default=None, repr=False, compare=False)

    def add_node(self, node_id: str, kind: NodeKind, **attrs: Any) -> None:
        if node_id in self.graph:
            self.graph.nodes[node_id].update({k: v for k, v in attrs.items() if v is not None})
            return
        self.graph.add_node(node_id, kind=kind, **attrs)

    def add_edge(self, edge: DerivedEdge) -> None:
        """Add ``edge`` unless an equal one is there: one edge per (kind, technique, residual condition)
        between two nodes. Keys are ``kind:technique`` and ``kind:technique:N`` for the N-th other
        condition, so they do not depend on the process (no hashes of strings)."""
        base = f"{edge.kind.value}:{edge.technique}"
        existing = self.graph.get_edge_data(edge.source, edge.target)
        key = base
        if existing:
            n = 0
            while key in existing:
                if existing[key]["edge"].conditions == edge.conditions:
                    return
                n += 1
                key = f"{base}:{n}"
        self.put(edge, key)

    def put(self, edge: DerivedEdge, key: str) -> None:
        """Store ``edge`` under ``key`` as it is (a store's fetched subgraph keeps the keys it loaded)."""
        self._by_kind = None
        self.graph.add_edge(edge.source, edge.target, key=key, edge=edge)

    def out_edges_of(self, node: str, kinds: frozenset[EdgeKind]) -> list[DerivedEdge]:
        """The out-edges of ``node`` of the given kinds, in the graph's order, from an index by kind (the
        traversals would otherwise walk every access edge of every principal they pass)."""
        index = self._by_kind
        if index is None:
            index = self._by_kind = {}
            for source, _, data in self.graph.edges(data=True):
                e: DerivedEdge = data["edge"]
                index.setdefault(source, {}).setdefault(e.kind, []).append(e)
        by_kind = index.get(node)
        if not by_kind:
            return []
        found = [edges for kind, edges in by_kind.items() if kind in kinds]
        return found[0] if len(found) == 1 else [e for edges in found for e in edges]

    def node(self, node_id: str) -> dict[str, Any]:
        return dict(self.graph.nodes[node_id])

    def edges(self, kind: EdgeKind | None = None) -> Iterator[DerivedEdge]:
        for _, _, data in self.graph.edges(data=True):
            e: DerivedEdge = data["edge"]
            if kind is None or e.kind is kind:
                yield e

    def edges_between(self, source: str, target: str) -> list[DerivedEdge]:
        data = self.graph.get_edge_data(source, target) or {}
        return [d["edge"] for d in data.values()]

    def node_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(str(k) for _, k in self.graph.nodes(data="kind")).items()))

    def edge_counts(self) -> dict[str, int]:
        c: Counter[str] = Counter()
        for e in self.edges():
            c[e.kind.value] += 1
        return dict(sorted(c.items()))

    def technique_counts(self) -> dict[str, int]:
        c: Counter[str] = Counter(e.technique for e in self.edges())
        return dict(sorted(c.items()))

    def admins(self) -> list[str]:
        return sorted(n for n, admin in self.graph.nodes(data="admin") if admin)
