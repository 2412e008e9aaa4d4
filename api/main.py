"""The HTTP API: ``create_app(settings)`` wires settings, the snapshot registry, routers and error shapes.

Run it with ``iamgraph serve --data DIR`` (or ``uvicorn --factory api.main:app_factory`` with
``IAMGRAPH_DATA``). Snapshots named in the settings load in a background thread: /healthz answers at
once, /readyz once a snapshot is queryable. With ``store=neo4j`` the queries go to snapshots loaded into
Neo4j instead (api/graphs.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI

from api.cache import ResponseCache
from api.deps import QueryWorkers, require_token
from api.errors import install_handlers
from api.graphs import graphs_for
from api.middleware import AccessLog, BodyLimit
from api.registry import SnapshotEntry, SnapshotRegistry, name_for
from api.routes import graph, health, queries, review, simulate, snapshots, ui
from api.settings import Settings, get_settings
from iamgraph import __version__
from iamgraph.graph.queries import Analysis

__all__ = ["app_factory", "create_app"]

log = logging.getLogger("iamgraph.api")

DESCRIPTION = """Who can reach what in an AWS estate, by which path, and why — over HTTP.

Responses are the JSON of `iamgraph ... --json` (docs/cli.md). Errors: `{"error": {"code", "message",
"detail"}}`. Path queries are bounded (depth, paths, time budget; the `X-Iamgraph-Bounds` header says
which bounds applied) and answer 422 with the limit that was hit.
"""


def _startup_dirs(settings: Settings, taken: list[str]) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for path in settings.data_dirs():
        name = name_for(path, [*taken, *(n for n, _ in out)])
        out.append((name, path))
    return out


def create_app(
    settings: Settings | None = None,
    *,
    preloaded: Mapping[str, tuple[Analysis, float]] | None = None,
) -> FastAPI:
    """The API over ``preloaded`` snapshots (name -> analysis, load seconds) plus those of ``settings.data``."""
    settings = settings or get_settings()
    registry = SnapshotRegistry(max_snapshots=settings.max_snapshots)
    for name, (analysis, seconds) in (preloaded or {}).items():
        registry.add(SnapshotEntry(name, analysis, "data", seconds))
    graphs = graphs_for(settings, registry)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pending = _startup_dirs(settings, registry.names()) if graphs.kind == "memory" else []
        if pending:
            registry.loading = True
            threading.Thread(
                target=registry.load_dirs,
                args=(pending,),
                kwargs={"use_cache": settings.use_cache, "resource_access": settings.resource_access},
                daemon=True,
            ).start()
        yield
        graphs.close()
        cache = app.state.cache  # one per process: with --workers, each worker says its own
        if cache.lookups:
            log.info("answers served from the response cache: %d of %d", cache.hits, cache.lookups)

    app = FastAPI(title="iamgraph", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.registry = registry
    app.state.graphs = graphs
    app.state.cache = ResponseCache(settings.response_cache_bytes)
    app.state.query_workers = QueryWorkers(settings.query_workers)
    install_handlers(app)
    app.include_router(health.router)
    guarded = [Depends(require_token)]
    for module in (snapshots, queries, graph, simulate, review):
        app.include_router(module.router, dependencies=guarded)
    app.include_router(ui.views, dependencies=guarded)
    app.include_router(ui.evidence, dependencies=guarded)
    app.include_router(ui.pages)  # the explorer page at / and its static files: no estate data, no token

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, exempt=(("POST", "/snapshots"),))
    app.add_middleware(AccessLog)
    return app


def app_factory() -> FastAPI:
    """For ``uvicorn --factory api.main:app_factory``: settings from the environment."""
    return create_app(get_settings())
