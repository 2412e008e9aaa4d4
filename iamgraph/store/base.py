"""The GraphStore protocol: where a built graph lives and how the queries are asked of it.

Two implementations: ``MemoryStore`` (networkx, the reference) and ``Neo4jStore``. Both answer in the
JSON shapes of docs/cli.md, and the shared test suite holds them to the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from iamgraph.edges.base import EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.queries.base import Analysis
from iamgraph.graph.queries.budget import Deadline
from iamgraph.graph.queries.whatif import WhatIf

__all__ = ["GraphStore", "LoadReport", "SnapshotNotFound", "Source"]

Source = Analysis | AccessGraph


class SnapshotNotFound(InputError):
    """The store holds no snapshot of that name (``available``: the names it does hold)."""

    def __init__(self, message: str, *, snapshot: str, available: list[str]) -> None:
        self.snapshot = snapshot
        self.available = available
        super().__init__(message, element="snapshot")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadReport:
    """What a load wrote: counts, the update tag, and the stale data it removed."""

    snapshot: str
    load_tag: int
    accounts: tuple[str, ...]
    nodes: int
    relationships: int
    removed_nodes: int = 0
    removed_relationships: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Relationships written per second."""
        return self.relationships / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot,
            "load_tag": self.load_tag,
            "accounts": list(self.accounts),
            "nodes": self.nodes,
            "relationships": self.relationships,
            "removed_nodes": self.removed_nodes,
            "removed_relationships": self.removed_relationships,
            "seconds": round(self.seconds, 3),
            "relationships_per_second": round(self.rate),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


class GraphStore(Protocol):
    """A handful of methods: load a built graph, then ask the queries of one snapshot.

    ``at(name)`` is the same store asking of another snapshot (one connection, any number of snapshots:
    what a server holds per request); close only the store that was opened.
    """

    snapshot: str

    def at(self, snapshot: str) -> GraphStore: ...

    def snapshots(self) -> list[dict[str, Any]]:
        """Every snapshot held: name, nodes, edges, accounts, admins, loaded_at (ISO time of its last load)."""
        ...

    def load(self, source: Source, *, snapshot: str | None = None, accounts: set[str] | None = None) -> LoadReport:
        """Write the graph under a snapshot name; ``accounts`` replaces only those accounts' data."""
        ...

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
    ) -> dict[str, Any]: ...

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
    ) -> dict[str, Any]: ...

    def privesc(
        self, *, whatif: WhatIf | None = None, max_depth: int = 8, deadline: Deadline | None = None
    ) -> dict[str, Any]: ...

    def exposure(
        self,
        *,
        whatif: WhatIf | None = None,
        max_depth: int = 8,
        limit: int | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]: ...

    def neighbourhood(
        self,
        node: str,
        *,
        depth: int = 1,
        limit: int = 200,
        whatif: WhatIf | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]: ...

    def node(self, node: str) -> dict[str, Any]: ...

    def edge(
        self,
        source: str,
        target: str,
        *,
        kind: EdgeKind | None = None,
        technique: str | None = None,
        whatif: WhatIf | None = None,
    ) -> dict[str, Any]: ...

    def search(self, prefix: str, *, limit: int = 20) -> dict[str, Any]:
        """Nodes whose ARN, name or last ARN part starts with ``prefix`` (case-insensitive)."""
        ...

    def close(self) -> None: ...
