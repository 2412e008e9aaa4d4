"""The in-memory store (networkx): the embedded default and the reference every other store must match."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.graph.queries import exposure, find_paths, privesc, who_can
from iamgraph.graph.queries.base import Analysis, QueryView, resolve_ref
from iamgraph.graph.queries.budget import Deadline
from iamgraph.graph.queries.explore import SearchIndex, edge_details, neighbourhood, node_details, search
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.model.policy import ConditionClause
from iamgraph.store.base import LoadReport, SnapshotNotFound, Source

__all__ = ["GraphView", "MemoryStore"]


@dataclass(slots=True)
class GraphView:
    """A bare AccessGraph as a query view (no snapshot: trust conditions are not known)."""

    graph: AccessGraph

    def resolve(self, ref: str, *, what: str = "principal or resource") -> str:
        g = self.graph.graph
        return resolve_ref(
            ref,
            what,
            exists=lambda n: n in g,
            named=lambda name: [str(n) for n, data in g.nodes(data=True) if data.get("name") == name],
            suffixed=lambda ends: [str(n) for n in g.nodes if str(n).endswith(ends)],
            pool=lambda: [str(n) for n in g.nodes] + [str(d["name"]) for _, d in g.nodes(data=True) if d.get("name")],
        )

    def trust_conditions(self, edge: DerivedEdge) -> list[ConditionClause]:
        return []


class MemoryStore:
    """Snapshots held in this process; every query is the query layer's own function."""

    def __init__(self, snapshot: str = "default") -> None:
        self.snapshot = snapshot
        self._views: dict[str, QueryView] = {}
        self._loaded_at: dict[str, str] = {}
        self._indexes: dict[str, SearchIndex] = {}

    def at(self, snapshot: str) -> MemoryStore:
        """This store asking of another snapshot (the snapshots are shared, not copied)."""
        other = copy.copy(self)
        other.snapshot = snapshot
        return other

    def load(self, source: Source, *, snapshot: str | None = None, accounts: set[str] | None = None) -> LoadReport:
        started = time.perf_counter()
        name = snapshot or self.snapshot
        if accounts is not None:
            raise InputError("the memory store loads whole snapshots", element="accounts")
        view: QueryView = source if isinstance(source, Analysis) else GraphView(source)
        self._views[name] = view
        self._loaded_at[name] = datetime.now(UTC).isoformat(timespec="seconds")
        self._indexes.pop(name, None)
        self.snapshot = name
        g = view.graph
        roots = sorted(str(d.get("account")) for _, d in g.graph.nodes(data=True) if d.get("kind") == NodeKind.ACCOUNT)
        return LoadReport(
            snapshot=name,
            load_tag=time.time_ns() // 1000,
            accounts=tuple(roots),
            nodes=g.graph.number_of_nodes(),
            relationships=g.graph.number_of_edges(),
            seconds=time.perf_counter() - started,
        )

    @property
    def view(self) -> QueryView:
        try:
            return self._views[self.snapshot]
        except KeyError:
            message = f'no snapshot "{self.snapshot}" is loaded'
            raise SnapshotNotFound(message, snapshot=self.snapshot, available=sorted(self._views)) from None

    def snapshots(self) -> list[dict[str, Any]]:
        out = []
        for name, view in sorted(self._views.items()):
            g = view.graph
            accounts = sum(1 for _, d in g.graph.nodes(data=True) if d.get("kind") == NodeKind.ACCOUNT)
            out.append(
                {
                    "name": name,
                    "nodes": g.graph.number_of_nodes(),
                    "edges": g.graph.number_of_edges(),
                    "accounts": accounts,
                    "admins": len(g.admins()),
                    "loaded_at": self._loaded_at[name],
                }
            )
        return out

    def who_can(
        self,
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
        return who_can(
            self.view,
            resource,
            action=action,
            access_level=access_level,
            whatif=whatif,
            max_depth=max_depth,
            limit=limit,
            offset=offset,
            deadline=deadline,
        )

    def path(
        self,
        source: str,
        target: str,
        *,
        all_paths: bool = False,
        max_depth: int = 6,
        limit: int = 20,
        whatif: WhatIf | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        return find_paths(
            self.view,
            source,
            target,
            all_paths=all_paths,
            max_depth=max_depth,
            limit=limit,
            whatif=whatif,
            deadline=deadline,
        )

    def privesc(
        self, *, whatif: WhatIf | None = None, max_depth: int = 8, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        return privesc(self.view, whatif=whatif, max_depth=max_depth, deadline=deadline)

    def exposure(
        self,
        *,
        whatif: WhatIf | None = None,
        max_depth: int = 8,
        limit: int | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        return exposure(self.view, whatif=whatif, max_depth=max_depth, limit=limit, deadline=deadline)

    def neighbourhood(
        self,
        node: str,
        *,
        depth: int = 1,
        limit: int = 200,
        whatif: WhatIf | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        # the explore functions read only .graph and .resolve of their argument
        return neighbourhood(
            cast(Analysis, self.view), node, depth=depth, limit=limit, whatif=whatif, deadline=deadline
        )

    def node(self, node: str) -> dict[str, Any]:
        return node_details(cast(Analysis, self.view), node)

    def edge(
        self,
        source: str,
        target: str,
        *,
        kind: EdgeKind | None = None,
        technique: str | None = None,
        whatif: WhatIf | None = None,
    ) -> dict[str, Any]:
        return edge_details(cast(Analysis, self.view), source, target, kind=kind, technique=technique, whatif=whatif)

    def search(self, prefix: str, *, limit: int = 20) -> dict[str, Any]:
        return search(cast(Analysis, self.view), prefix, limit=limit, index=self._index())

    def prepare(self) -> None:
        """Make now what the first search would: the snapshot's search index."""
        self._index()

    def _index(self) -> SearchIndex:
        index = self._indexes.get(self.snapshot)
        if index is None:  # built once per snapshot (a race builds it twice, harmlessly)
            index = self._indexes[self.snapshot] = SearchIndex.of(cast(Analysis, self.view))
        return index

    def close(self) -> None:
        self._views.clear()
        self._indexes.clear()
