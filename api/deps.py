"""Dependencies: settings, the snapshot registry, the graph stores, the bearer-token check and query bounds."""

from __future__ import annotations

import gc
import hmac
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Protocol

import orjson
from anyio import CapacityLimiter, to_thread
from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from api.cache import ResponseCache
from api.errors import ApiError
from api.graphs import Graphs, Target, needs_memory
from api.registry import SnapshotEntry, SnapshotRegistry
from api.schemas import WhatIfParams
from api.settings import Settings
from iamgraph._gc import freeze
from iamgraph.graph.queries import Deadline, LimitExceeded, WhatIf, parse_context_pairs
from iamgraph.graph.queries.base import SharedHop, SharedList

__all__ = [
    "BOUNDS_HEADER",
    "GraphsDep",
    "Querying",
    "QueryingDep",
    "RegistryDep",
    "SettingsDep",
    "json_response",
    "require_token",
]

BOUNDS_HEADER = "X-Iamgraph-Bounds"
# Dependencies are ``async def``: they never block, and a plain ``def`` would cost each one a thread hop.
_bearer = HTTPBearer(auto_error=False, description="IAMGRAPH_API_TOKEN, when the server has one")


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _registry(request: Request) -> SnapshotRegistry:
    registry: SnapshotRegistry = request.app.state.registry
    return registry


async def _graphs(request: Request) -> Graphs:
    graphs: Graphs = request.app.state.graphs
    return graphs


SettingsDep = Annotated[Settings, Depends(_settings)]
RegistryDep = Annotated[SnapshotRegistry, Depends(_registry)]
GraphsDep = Annotated[Graphs, Depends(_graphs)]


class Loaded(Protocol):
    """What an answer is cached under: the load of each snapshot it read (None: never cached)."""

    @property
    def load_id(self) -> str | None: ...


async def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """With IAMGRAPH_API_TOKEN set, every request needs ``Authorization: Bearer <token>`` (constant-time compare).

    Reads the settings from the app itself rather than through a dependency: FastAPI solves every
    dependency on every request, and this one guards every route."""
    settings: Settings = request.app.state.settings
    if settings.api_token is None:
        return
    expected = settings.api_token.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials is not None else b""
    if credentials is None or credentials.scheme.lower() != "bearer" or not hmac.compare_digest(given, expected):
        challenge = {"WWW-Authenticate": 'Bearer realm="iamgraph"'}
        raise ApiError(401, "unauthorized", "a valid bearer token is required", headers=challenge)


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _dumps(content: Any) -> bytes:
    """Compact UTF-8 JSON; orjson, because a who-can answer at 5k principals is megabytes and the standard
    encoder took longer than the query itself. A hop the graph keeps for every query (``SharedHop``) and an
    action list or proof that hops share (``SharedList``) are encoded once and then copied into each answer
    as they are (a who-can page of 100 principals is about 300 hops, 300 kB)."""
    return orjson.dumps(content, default=_encode, option=_OPTIONS)


def _encode(value: Any) -> Any:
    """What orjson hands over: subclasses of its built-in types (to find the shared hops among dicts), and
    types it does not know (as text, like ``default=str``). The others come out as orjson writes them."""
    if isinstance(value, SharedHop | SharedList):
        encoded = getattr(value, "encoded", None)
        if encoded is None:  # two threads may both encode a hop: the same bytes, harmlessly
            # the hop itself, as orjson reads a dict: its values are not copied, so in a forked worker the
            # pages of the graph's shared JSON parts that they sit on stay shared
            encoded = value.encoded = orjson.Fragment(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))
        return encoded
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return str(value)


def json_response(content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON exactly as the query layer built it (what the CLI prints with --json), without re-validation."""
    return Response(_dumps(content), status_code=status_code, media_type="application/json", headers=headers)


@dataclass(slots=True)
class Querying:
    """What a query route needs: the snapshot, the what-if, and the server's bounds (checked, then reported)."""

    settings: Settings
    registry: SnapshotRegistry
    cache: ResponseCache
    graphs: Graphs
    workers: QueryWorkers

    def graph(self, name: str | None) -> Target:
        """The store to ask of a snapshot (memory or Neo4j): the routes the GraphStore protocol covers."""
        return self.graphs.target(name)

    def snapshot(self, name: str | None) -> SnapshotEntry:
        """The analysed snapshot in memory, for routes beyond the GraphStore protocol (501 on a Neo4j server)."""
        if self.graphs.kind != "memory":
            raise needs_memory()
        return self.registry.get(name)

    @staticmethod
    def whatif(params: WhatIfParams) -> WhatIf:
        return WhatIf(parse_context_pairs(list(params.context)), params.assume_unknown)

    def _capped(self, requested: int, field: str, limit: str, cap: int) -> int:
        if requested > cap:
            raise LimitExceeded(f"{field} {requested} is above the server's {limit} of {cap}", limit=limit, value=cap)
        return requested

    def depth(self, requested: int, field: str = "max_depth") -> int:
        return self._capped(requested, field, "max_depth", self.settings.max_depth)

    def paths(self, requested: int) -> int:
        return self._capped(requested, "limit", "max_paths", self.settings.max_paths)

    def nodes(self, requested: int) -> int:
        return self._capped(requested, "limit", "max_nodes", self.settings.max_nodes)

    def deadline(self) -> Deadline:
        return Deadline.after(self.settings.query_time_budget_s)

    async def answer(
        self,
        route: str,
        params: BaseModel,
        entries: tuple[Loaded, ...],
        compute: Callable[[], Any],
        bounded: bool = True,
        **bounds: int,
    ) -> Response:
        """The answer, with the bounds it was computed under in the X-Iamgraph-Bounds header.

        Computed in a worker thread; served from the cache, without leaving the event loop, when the same
        request was answered before on the same snapshot loads (never for a snapshot without a load id).
        """
        loads = [e.load_id for e in entries]
        key = (route, *(i for i in loads if i is not None), params.model_dump_json())
        cacheable = None not in loads
        hit = self.cache.get(key) if cacheable else None
        if hit is not None:
            body, header = hit
        else:
            parts = [f"{k}={v}" for k, v in bounds.items()] + [f"time_budget_s={self.settings.query_time_budget_s:g}"]
            body = await to_thread.run_sync(lambda: _settled(_dumps(compute())), limiter=self.workers.get())
            header = ", ".join(parts) if bounded else ""
            if cacheable:
                self.cache.put(key, body, header)
        return Response(body, media_type="application/json", headers={BOUNDS_HEADER: header} if header else None)


class QueryWorkers:
    """How many queries run at once (``query_workers``, default 1). Queries are CPU work in one interpreter:
    more threads at once do not answer sooner, they all slow down together until every one of them runs out
    of its time budget. The others wait their turn, first come first served, and their budget starts when
    they do. One at a time also answers more: two query threads and the event loop pass the interpreter's
    lock among them (at 5,000 principals with two worker processes: 328 requests/s with one query at a
    time per process, 247 with two; one process: 168 either way). The price: a long query (a whole-estate
    report, about 2 s there) holds up the queries behind it in the same process instead of sharing the core
    with them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._limiter: CapacityLimiter | None = None
        self._lock = threading.Lock()

    def get(self) -> CapacityLimiter:
        with self._lock:  # made on first use, inside the event loop (anyio needs one)
            if self._limiter is None:
                self._limiter = CapacityLimiter(self.size)
            return self._limiter


_queries_done = itertools.count(1)
SETTLE_EVERY = 8


def _settled(body: bytes) -> bytes:
    """After every ``SETTLE_EVERY``-th query: what the queries added for good (the graph's hop and
    neighbour caches) is moved out of the cyclic GC's sight, as the loaded graph is at start-up; else each
    full collection walks a growing cache and stalls a request for seconds (measured at 5k principals).
    The young generations are collected first, so that only live objects are frozen. Not after each query:
    that collection took about 4 % of a worker's time at 5k principals, and what a few queries add is
    quick to walk."""
    if next(_queries_done) % SETTLE_EVERY == 0:
        gc.collect(1)
        freeze()
    return body


async def _querying(request: Request) -> Querying:
    """One dependency for what every query route needs, read from the app's state: FastAPI solves each
    dependency of a route on every request, at a cost comparable to a small query (measured in-process)."""
    state = request.app.state
    return Querying(
        settings=state.settings,
        registry=state.registry,
        cache=state.cache,
        graphs=state.graphs,
        workers=state.query_workers,
    )


QueryingDep = Annotated[Querying, Depends(_querying)]
