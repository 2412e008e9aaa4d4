"""The named snapshots the server holds in memory, each analysed once; the first loaded is the default."""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.errors import ApiError
from iamgraph.graph.queries import Analysis
from iamgraph.store import MemoryStore, load_analysis
from iamgraph.store.cache import ready_for_queries

__all__ = ["NAME_PATTERN", "SnapshotEntry", "SnapshotRegistry", "name_for"]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
log = logging.getLogger("iamgraph.api")
_loads = itertools.count(1)


@dataclass(slots=True)
class SnapshotEntry:
    name: str
    analysis: Analysis
    source: str  # "data" (loaded at start-up) or "upload"
    load_seconds: float
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    load_id: str = field(default_factory=lambda: str(next(_loads)))  # keys cached answers to this load
    _store: MemoryStore | None = None
    _counts: dict[str, int] | None = None

    @property
    def store(self) -> MemoryStore:
        """The GraphStore the query routes ask (it keeps the search index), made on first use."""
        if self._store is None:
            store = MemoryStore(self.name)
            store.load(self.analysis)
            self._store = store
        return self._store

    def counts(self) -> dict[str, int]:
        """Accounts, nodes, edges and admins, counted once: counting the edges visits every node's
        adjacency (seconds at millions of edges, and in a forked worker every page it reads is copied)."""
        if self._counts is None:
            g = self.analysis.graph
            self._counts = {
                "accounts": len(self.analysis.snapshot.accounts),
                "nodes": g.graph.number_of_nodes(),
                "edges": g.graph.number_of_edges(),
                "admins": len(g.admins()),
            }
        return self._counts

    def warm(self) -> None:
        """What the first request would otherwise make: the counts, the query store (with its own counts)
        and its search index. Done when the snapshot is added, so that forked workers inherit it all."""
        self.counts()
        self.store.prepare()

    def info(self, *, default: bool) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "default": default,
            "loaded_at": self.loaded_at,
            "load_seconds": round(self.load_seconds, 3),
            **self.counts(),
            "resource_access": "eager" if self.analysis.graph.on_demand is None else "on-demand",
        }


def name_for(path: Path, taken: Iterable[str]) -> str:
    """A snapshot name from a directory name: safe characters only, unique among ``taken``."""
    base = re.sub(r"[^A-Za-z0-9._-]", "-", path.resolve().name).strip(".-_")[:56] or "snapshot"
    used, name, n = set(taken), base, 2
    while name in used:
        name, n = f"{base}-{n}", n + 1
    return name


class SnapshotRegistry:
    """Thread-safe map name -> analysed snapshot, with the start-up loading state for /readyz."""

    def __init__(self, *, max_snapshots: int) -> None:
        self.max_snapshots = max_snapshots
        self._lock = threading.Lock()
        self._entries: dict[str, SnapshotEntry] = {}
        self.loading = False
        self.load_errors: list[str] = []

    def names(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    @property
    def default(self) -> str | None:
        with self._lock:
            return next(iter(self._entries), None)

    def get(self, name: str | None) -> SnapshotEntry:
        with self._lock:
            if name is None:
                if not self._entries:
                    raise ApiError(503, "not_ready", "no snapshot is loaded yet", {"loading": self.loading})
                return next(iter(self._entries.values()))
            entry = self._entries.get(name)
        if entry is None:
            raise ApiError(404, "snapshot_not_found", f'no snapshot named "{name}"', {"snapshots": self.names()})
        return entry

    def check_room(self, name: str, *, replace: bool) -> None:
        """Raise before an expensive load when the name is taken or the registry is full."""
        if not _NAME.match(name):
            raise ApiError(422, "validation_error", "invalid snapshot name", {"field": "name"})
        with self._lock:
            if name in self._entries and not replace:
                raise ApiError(409, "snapshot_exists", f'a snapshot named "{name}" exists', {"name": name})
            if name not in self._entries and len(self._entries) >= self.max_snapshots:
                raise ApiError(
                    409,
                    "too_many_snapshots",
                    f"at most {self.max_snapshots} snapshots can be loaded; delete one first",
                    {"limit": "max_snapshots", "value": self.max_snapshots},
                )

    def add(self, entry: SnapshotEntry, *, replace: bool = False) -> None:
        self.check_room(entry.name, replace=replace)
        with self._lock:
            self._entries[entry.name] = entry
        ready_for_queries(entry.analysis)
        entry.warm()

    def remove(self, name: str) -> SnapshotEntry:
        with self._lock:
            entry = self._entries.pop(name, None)
        if entry is None:
            raise ApiError(404, "snapshot_not_found", f'no snapshot named "{name}"', {"snapshots": self.names()})
        return entry

    def load_dirs(self, dirs: list[tuple[str, Path]], *, use_cache: bool, resource_access: str = "auto") -> None:
        """Load start-up snapshots one by one; a failure is logged and reported by /readyz."""
        self.loading = True
        try:
            for name, path in dirs:
                started = time.perf_counter()
                try:
                    analysis = load_analysis(path, use_cache=use_cache, freeze=True, resource_access=resource_access)
                    self.add(SnapshotEntry(name, analysis, "data", time.perf_counter() - started))
                    log.info("snapshot %s loaded in %.1f s", name, time.perf_counter() - started)
                except Exception as exc:  # reported, never fatal: the server keeps serving what it has
                    self.load_errors.append(f"{name}: {exc}")
                    log.error("snapshot %s failed to load: %s", name, exc)
        finally:
            self.loading = False
