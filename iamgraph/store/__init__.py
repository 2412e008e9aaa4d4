"""Storage around the core: the on-disk analysis cache and the graph stores (memory, Neo4j).

``open_store`` is what the CLI and the API call; the Neo4j driver is imported only when asked for.
"""

from __future__ import annotations

import os

from iamgraph.errors import InputError
from iamgraph.store.base import GraphStore, LoadReport, SnapshotNotFound
from iamgraph.store.cache import load_analysis, resource_access_mode, snapshot_hash
from iamgraph.store.memory import MemoryStore

__all__ = [
    "STORES",
    "GraphStore",
    "LoadReport",
    "MemoryStore",
    "SnapshotNotFound",
    "load_analysis",
    "open_store",
    "resource_access_mode",
    "snapshot_hash",
]

STORES = ("memory", "neo4j")


def open_store(
    kind: str = "memory",
    *,
    uri: str | None = None,
    user: str | None = None,
    password: str | None = None,
    snapshot: str | None = None,
) -> GraphStore:
    """A store by name. Neo4j settings default to NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, IAMGRAPH_SNAPSHOT.

    Raises StoreUnavailable when the Neo4j server is down or refuses the credentials.
    """
    name = snapshot or os.environ.get("IAMGRAPH_SNAPSHOT") or "default"
    if kind == "memory":
        return MemoryStore(name)
    if kind == "neo4j":
        from iamgraph.store.neo4j_store import Neo4jStore

        target = uri or os.environ.get("NEO4J_URI")
        if not target:
            raise InputError("needs a Bolt URI (--uri or NEO4J_URI), e.g. bolt://127.0.0.1:7687", element="--uri")
        return Neo4jStore(target, user=user, password=password, snapshot=name)
    raise InputError(f'"{kind}" is not one of {", ".join(STORES)}', element="--store")
