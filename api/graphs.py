"""Where the API asks its graph queries: the GraphStore of a snapshot, in memory or in Neo4j.

``store=memory`` (the default): each snapshot of the registry is an Analysis, asked through a MemoryStore
over it, which calls the query layer's functions directly. ``store=neo4j``: snapshots loaded with
``iamgraph neo4j load``, over one driver opened on first use and again after a failure (a server that is
down at start-up answers 503 until it is back). Neo4j answers are never cached: another load can change a
snapshot at any time. Routes that need the whole estate in memory answer 501 (``needs_memory_store``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from api.errors import ApiError
from api.registry import SnapshotRegistry
from api.schemas import Ready
from api.settings import Settings
from iamgraph.errors import InputError, StoreUnavailable
from iamgraph.store import GraphStore

if TYPE_CHECKING:
    from iamgraph.store.neo4j_store import Neo4jStore

__all__ = ["Graphs", "MemoryGraphs", "Neo4jGraphs", "Target", "graphs_for", "needs_memory", "open_neo4j"]

RETRY_AFTER_S = 2.0  # after a failed connection, requests answer 503 at once for this long


@dataclass(frozen=True, slots=True)
class Target:
    """One snapshot to ask. ``open`` runs in the worker thread (it may connect); ``load_id`` keys cached
    answers, None: never cached."""

    name: str
    load_id: str | None
    open: Callable[[], GraphStore]


class Graphs(Protocol):
    kind: str

    def target(self, name: str | None) -> Target: ...

    def listing(self) -> dict[str, Any]: ...

    def info(self, name: str) -> dict[str, Any]: ...

    def ready(self) -> Ready: ...

    def visible(self, names: list[str]) -> list[str]:
        """Those of ``names`` this server serves (what an error may list)."""
        ...

    def close(self) -> None: ...


def needs_memory(what: str = "this route") -> ApiError:
    """501 for a route that needs the analysed estate in this process (a Neo4j server has none)."""
    return ApiError(
        501,
        "needs_memory_store",
        f"{what} needs the in-memory store (iamgraph serve --store memory --data DIR); this server reads Neo4j",
        {"store": "neo4j", "needs": "memory"},
    )


def _not_found(name: str, names: list[str]) -> ApiError:
    return ApiError(404, "snapshot_not_found", f'no snapshot named "{name}"', {"snapshots": names})


class MemoryGraphs:
    """The registry's snapshots (analysed in this process), each asked through its MemoryStore."""

    kind = "memory"

    def __init__(self, registry: SnapshotRegistry) -> None:
        self.registry = registry

    def target(self, name: str | None) -> Target:
        entry = self.registry.get(name)
        return Target(entry.name, entry.load_id, lambda: entry.store)

    def listing(self) -> dict[str, Any]:
        default = self.registry.default
        items = [self.registry.get(n).info(default=n == default) for n in self.registry.names()]
        return {"default": default, "snapshots": items}

    def info(self, name: str) -> dict[str, Any]:
        return self.registry.get(name).info(default=self.registry.default == name)

    def ready(self) -> Ready:
        names = self.registry.names()
        if not names:
            detail = {"loading": self.registry.loading, "load_errors": self.registry.load_errors}
            raise ApiError(503, "not_ready", "no snapshot is loaded yet", detail)
        return Ready(status="ready", snapshots=names, default=names[0])

    def visible(self, names: list[str]) -> list[str]:
        return names

    def close(self) -> None:
        pass


def open_neo4j(settings: Settings, snapshot: str = "default") -> Neo4jStore:
    """The Neo4j store of the settings; StoreUnavailable when the server is down or refuses the credentials."""
    from iamgraph.store.neo4j_store import Neo4jStore

    if not settings.neo4j_uri:
        raise InputError("needs a Bolt URI (--uri, NEO4J_URI or IAMGRAPH_NEO4J_URI)", element="--uri")
    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
    return Neo4jStore(
        settings.neo4j_uri,
        user=settings.neo4j_user or "neo4j",
        password=password,
        snapshot=snapshot,
        timeout=settings.neo4j_timeout_s,
        retry_time=settings.neo4j_timeout_s,
    )


class Neo4jGraphs:
    """Snapshots in Neo4j (all of them, or those named in ``settings.snapshots``; the first is the default)."""

    kind = "neo4j"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.names = settings.snapshot_names()
        self.default = self.names[0] if self.names else "default"
        self._lock = threading.Lock()
        self._store: Neo4jStore | None = None
        self._failed: tuple[float, str] | None = None

    def connect(self) -> Neo4jStore:
        """The shared store, connecting on first use; shortly after a failure, the same 503 without retrying."""
        with self._lock:
            if self._store is not None:
                return self._store
            if self._failed is not None and time.monotonic() - self._failed[0] < RETRY_AFTER_S:
                raise StoreUnavailable(self._failed[1])
            try:
                self._store = open_neo4j(self.settings, self.default)
            except (StoreUnavailable, InputError) as exc:
                message = str(exc) if isinstance(exc, StoreUnavailable) else f"neo4j is not configured: {exc}"
                self._failed = (time.monotonic(), message)
                raise StoreUnavailable(message) from None
            self._failed = None
            return self._store

    def _name(self, name: str | None) -> str:
        if name is None:
            return self.default
        if self.names and name not in self.names:
            raise _not_found(name, self.names)
        return name

    def target(self, name: str | None) -> Target:
        snapshot = self._name(name)
        return Target(snapshot, None, lambda: self.connect().at(snapshot))

    def _info(self, item: dict[str, Any], default: str | None) -> dict[str, Any]:
        counts = {k: item[k] for k in ("accounts", "nodes", "edges", "admins")}
        return {
            "name": item["name"],
            "source": "neo4j",
            "default": item["name"] == default,
            "loaded_at": item["loaded_at"],
            "load_seconds": None,
            **counts,
        }

    def listing(self) -> dict[str, Any]:
        found = {i["name"]: i for i in self.connect().snapshots()}
        names = [n for n in self.names if n in found] if self.names else list(found)
        default = self.default if self.default in found else None
        return {"default": default, "snapshots": [self._info(found[n], default) for n in names]}

    def info(self, name: str) -> dict[str, Any]:
        snapshot = self._name(name)
        found = self.connect().snapshots(name=snapshot)
        if not found:
            raise _not_found(name, self._available())
        return self._info(found[0], self.default)

    def _available(self) -> list[str]:
        store = self.connect()
        if self.names:
            return [n for n in self.names if store.has_snapshot(n)]
        return store.snapshot_names()

    def ready(self) -> Ready:
        self.connect().ping()
        names = self._available()
        if not names:
            message = "no snapshot in neo4j yet (load one: iamgraph neo4j load)"
            raise ApiError(503, "not_ready", message, {"store": "neo4j", "snapshots": self.names})
        return Ready(status="ready", snapshots=names, default=self.default if self.default in names else None)

    def visible(self, names: list[str]) -> list[str]:
        return [n for n in names if n in self.names] if self.names else names

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def graphs_for(settings: Settings, registry: SnapshotRegistry) -> Graphs:
    return Neo4jGraphs(settings) if settings.store == "neo4j" else MemoryGraphs(registry)
