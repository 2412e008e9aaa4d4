"""The CLI's queries over HTTP (GET with query parameters or POST with a JSON body), same JSON shapes.

Each answer is computed under the server's bounds (max depth, max paths, time budget); the bounds are
reported in the X-Iamgraph-Bounds header, and a query that hits one answers 422 naming the limit.
who-can, path, privesc and exposure ask the snapshot's GraphStore (memory or Neo4j); can, access-levels
and diff need the analysed estate in memory (501 on a Neo4j server).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import BOUNDS_HEADER, Querying, QueryingDep
from api.routes import errors
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


async def _who_can(q: WhoCanQuery, env: Querying) -> Response:
    depth, target = env.depth(q.max_depth), env.graph(q.snapshot)
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
            deadline=env.deadline(),
        ),
        max_depth=depth,
    )


@router.get("/who-can", response_model=WhoCanResult, summary="Every principal that can act on a resource")
async def who_can_get(q: Annotated[WhoCanQuery, Query()], env: QueryingDep) -> Response:
    return await _who_can(q, env)


@router.post("/who-can", response_model=WhoCanResult, summary="Every principal that can act on a resource")
async def who_can_post(q: WhoCanQuery, env: QueryingDep) -> Response:
    return await _who_can(q, env)


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


@router.get(
    "/can",
    response_model=CanResult,
    responses=_MEMORY,
    summary="yes / no / conditional, with the path and the decision",
)
async def can_get(q: Annotated[CanQuery, Query()], env: QueryingDep) -> Response:
    return await _can(q, env)


@router.post(
    "/can",
    response_model=CanResult,
    responses=_MEMORY,
    summary="yes / no / conditional, with the path and the decision",
)
async def can_post(q: CanQuery, env: QueryingDep) -> Response:
    return await _can(q, env)


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


@router.get("/path", response_model=PathResult, summary="Shortest path, or all simple paths within bounds")
async def path_get(q: Annotated[PathQuery, Query()], env: QueryingDep) -> Response:
    return await _path(q, env)


@router.post("/path", response_model=PathResult, summary="Shortest path, or all simple paths within bounds")
async def path_post(q: PathQuery, env: QueryingDep) -> Response:
    return await _path(q, env)


async def _privesc(q: PrivescQuery, env: Querying) -> Response:
    depth, target = env.depth(q.max_depth), env.graph(q.snapshot)
    return await env.answer(
        "privesc",
        q,
        (target,),
        lambda: target.open().privesc(whatif=env.whatif(q), max_depth=depth, deadline=env.deadline()),
        max_depth=depth,
    )


@router.get("/privesc", response_model=PrivescResult, summary="Admins, and who can escalate to admin")
async def privesc_get(q: Annotated[PrivescQuery, Query()], env: QueryingDep) -> Response:
    return await _privesc(q, env)


@router.post("/privesc", response_model=PrivescResult, summary="Admins, and who can escalate to admin")
async def privesc_post(q: PrivescQuery, env: QueryingDep) -> Response:
    return await _privesc(q, env)


async def _exposure(q: ExposureQuery, env: Querying) -> Response:
    depth, target = env.depth(q.max_depth), env.graph(q.snapshot)
    return await env.answer(
        "exposure",
        q,
        (target,),
        lambda: target.open().exposure(whatif=env.whatif(q), max_depth=depth, deadline=env.deadline()),
        max_depth=depth,
    )


@router.get("/exposure", response_model=ExposureResult, summary="What outsiders reach; risky trusts; public")
async def exposure_get(q: Annotated[ExposureQuery, Query()], env: QueryingDep) -> Response:
    return await _exposure(q, env)


@router.post("/exposure", response_model=ExposureResult, summary="What outsiders reach; risky trusts; public")
async def exposure_post(q: ExposureQuery, env: QueryingDep) -> Response:
    return await _exposure(q, env)


async def _access_levels(q: AccessLevelsQuery, env: Querying) -> Response:
    entry = env.snapshot(q.snapshot)
    return await env.answer(
        "access-levels",
        q,
        (entry,),
        lambda: access_levels(entry.analysis, q.principal, whatif=env.whatif(q), deadline=env.deadline()),
    )


@router.get(
    "/access-levels", response_model=AccessLevelsResult, responses=_MEMORY, summary="Effective permissions by level"
)
async def access_levels_get(q: Annotated[AccessLevelsQuery, Query()], env: QueryingDep) -> Response:
    return await _access_levels(q, env)


@router.post(
    "/access-levels", response_model=AccessLevelsResult, responses=_MEMORY, summary="Effective permissions by level"
)
async def access_levels_post(q: AccessLevelsQuery, env: QueryingDep) -> Response:
    return await _access_levels(q, env)


async def _diff(q: DiffQuery, env: Querying) -> Response:
    old, new = env.snapshot(q.old), env.snapshot(q.new)
    return await env.answer(
        "diff", q, (old, new), lambda: diff(old.analysis, new.analysis, whatif=env.whatif(q), deadline=env.deadline())
    )


@router.get("/diff", response_model=DiffResult, responses=_MEMORY, summary="Edges, admins, escalations gained and lost")
async def diff_get(q: Annotated[DiffQuery, Query()], env: QueryingDep) -> Response:
    return await _diff(q, env)


@router.post(
    "/diff", response_model=DiffResult, responses=_MEMORY, summary="Edges, admins, escalations gained and lost"
)
async def diff_post(q: DiffQuery, env: QueryingDep) -> Response:
    return await _diff(q, env)
