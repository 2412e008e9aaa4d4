"""The CLI's queries over HTTP (GET with query parameters or POST with a JSON body), same JSON shapes.

Each answer is computed under the server's bounds (max depth, max paths, time budget); the bounds are
reported in the X-Iamgraph-Bounds header, and a query that hits one answers 422 naming the limit.
who-can, path, privesc and exposure ask the snapshot's GraphStore (memory or Neo4j); can, access-levels
and diff need the analysed estate in memory (501 on a Neo4j server).
"""

from functools import partial
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import BOUNDS_HEADER, Querying
from api.routes import errors
from api.routes.model_routes import Handler, add_get, add_post
from api.schemas import (
    AccessLevelsQuery,
    AccessLevelsResult,
    CanQuery,
    CanResult,
    DiffQuery,
    DiffResult,
    ExposureQuery,
    ExposureResult,
    PathQuery,
    PathResult,
    PrivescQuery,
    PrivescResult,
    WhoCanQuery,
    WhoCanResult,
)
from iamgraph.graph.queries import access_levels, can, diff

_BOUNDS = {"description": "The bounds of the query, e.g. max_depth=8, time_budget_s=10", "schema": {"type": "string"}}
_OK: dict[int | str, dict[str, Any]] = {200: {"headers": {BOUNDS_HEADER: _BOUNDS}}}
router = APIRouter(prefix="/queries", tags=["queries"], responses={**errors(401, 404, 422, 503), **_OK})
_MEMORY = errors(501)  # routes beyond the GraphStore protocol


def _get_and_post(
    path: str,
    handler: Handler,
    params: type[BaseModel],
    result: type[BaseModel],
    summary: str,
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> None:
    """``GET path`` (query parameters) and ``POST path`` (JSON body) of ``params``, both answered by ``handler``."""
    name = path.strip("/").replace("-", "_")
    options: dict[str, Any] = {"response_model": result, "responses": responses, "summary": summary}
    add_get(router, path, params, handler, name=f"{name}_get", **options)
    add_post(router, path, params, handler, name=f"{name}_post", **options)


async def _who_can(q: WhoCanQuery, env: Querying) -> Response:
    depth, target, limit = env.depth(q.max_depth), env.graph(q.snapshot), env.paths(q.limit)
    return await env.answer(
        "who-can",
        q,
        (target,),
        lambda: target.open().who_can(
            q.resource,
            action=q.action,
            access_level=q.access_level,
            whatif=env.whatif(q),
            max_depth=depth,
            limit=limit,
            offset=q.offset,
            deadline=env.deadline(),
        ),
        max_depth=depth,
        limit=limit,
    )


async def _can(q: CanQuery, env: Querying) -> Response:
    depth, entry = env.depth(q.max_depth), env.snapshot(q.snapshot)
    return await env.answer(
        "can",
        q,
        (entry,),
        lambda: can(
            entry.analysis,
            q.principal,
            q.resource,
            q.action,
            whatif=env.whatif(q),
            max_depth=depth,
            deadline=env.deadline(),
        ),
        max_depth=depth,
    )


async def _path(q: PathQuery, env: Querying) -> Response:
    depth, limit, target = env.depth(q.max_depth), env.paths(q.limit), env.graph(q.snapshot)
    return await env.answer(
        "path",
        q,
        (target,),
        lambda: target.open().path(
            q.source,
            q.target,
            all_paths=q.all,
            max_depth=depth,
            limit=limit,
            whatif=env.whatif(q),
            deadline=env.deadline(),
        ),
        max_depth=depth,
        limit=limit if q.all else 1,
    )


async def _whole_graph(
    route: Literal["privesc", "exposure"], q: PrivescQuery | ExposureQuery, env: Querying
) -> Response:
    """privesc or exposure: a query of the whole graph, with only its bounds."""
    depth, target = env.depth(q.max_depth), env.graph(q.snapshot)

    limit = env.paths(q.limit) if isinstance(q, ExposureQuery) else None

    def compute() -> dict[str, Any]:
        store = target.open()
        if isinstance(q, ExposureQuery):
            return store.exposure(whatif=env.whatif(q), max_depth=depth, limit=limit, deadline=env.deadline())
        return store.privesc(whatif=env.whatif(q), max_depth=depth, deadline=env.deadline())

    if limit is None:
        return await env.answer(route, q, (target,), compute, max_depth=depth)
    return await env.answer(route, q, (target,), compute, max_depth=depth, limit=limit)


async def _access_levels(q: AccessLevelsQuery, env: Querying) -> Response:
    entry = env.snapshot(q.snapshot)
    return await env.answer(
        "access-levels",
        q,
        (entry,),
        lambda: access_levels(entry.analysis, q.principal, whatif=env.whatif(q), deadline=env.deadline()),
    )


async def _diff(q: DiffQuery, env: Querying) -> Response:
    old, new = env.snapshot(q.old), env.snapshot(q.new)
    return await env.answer(
        "diff", q, (old, new), lambda: diff(old.analysis, new.analysis, whatif=env.whatif(q), deadline=env.deadline())
    )


_get_and_post("/who-can", _who_can, WhoCanQuery, WhoCanResult, "Every principal that can act on a resource")
_get_and_post("/can", _can, CanQuery, CanResult, "yes / no / conditional, with the path and the decision", _MEMORY)
_get_and_post("/path", _path, PathQuery, PathResult, "Shortest path, or all simple paths within bounds")
_get_and_post(
    "/privesc", partial(_whole_graph, "privesc"), PrivescQuery, PrivescResult, "Admins, and who can escalate to admin"
)
_get_and_post(
    "/exposure",
    partial(_whole_graph, "exposure"),
    ExposureQuery,
    ExposureResult,
    "What outsiders reach; risky trusts; public",
)
_get_and_post(
    "/access-levels", _access_levels, AccessLevelsQuery, AccessLevelsResult, "Effective permissions by level", _MEMORY
)
_get_and_post("/diff", _diff, DiffQuery, DiffResult, "Edges, admins, escalations gained and lost", _MEMORY)
