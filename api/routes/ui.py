"""The browser UI: the explorer page at ``/``, its static files, and the view data it draws.

``pages`` (no token: it holds no estate data) serves the page and ``/ui/static/*`` under a strict
Content-Security-Policy. ``views`` (guarded like every data route) answers ``/ui/views/<query>`` with
``{"view", "network"}`` (docs/ui.md); ``evidence`` (guarded, not in the OpenAPI description: it answers
HTML) serves ``/ui/evidence/<query>``, the same view as one self-contained HTML file to download.
"""

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model
from starlette.concurrency import run_in_threadpool

from api.deps import Querying, SettingsDep
from api.errors import ApiError
from api.routes import errors
from api.routes.model_routes import add_get
from api.schemas import (
    ExposureQuery,
    NeighbourhoodQuery,
    PathQuery,
    PrivescQuery,
    SnapshotName,
    WhatIfParams,
    WhoCanParams,
)
from ui.page import ASSETS, SERVED_CSP, asset, explorer_page, standalone_page
from ui.redact import Redactor
from ui.render import network
from ui.view import DEFAULT_LIMIT, ViewQuery, build_view

__all__ = ["evidence", "pages", "views"]

_SECURITY = {
    "Content-Security-Policy": SERVED_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

pages = APIRouter(include_in_schema=False)


@pages.api_route("/", methods=["GET", "HEAD"])
def explorer(settings: SettingsDep) -> HTMLResponse:
    limits = {"max_depth": settings.max_depth, "max_paths": settings.max_paths, "max_nodes": settings.max_nodes}
    return HTMLResponse(explorer_page(limits), headers=_SECURITY)


@pages.get("/ui/static/{name}")
def static(name: str) -> Response:
    if name not in ASSETS:
        raise ApiError(404, "not_found", f'no static file "{name}"')
    return Response(asset(name), media_type=ASSETS[name], headers=_SECURITY)


# ---- view data ------------------------------------------------------------------------------------------

Limit = Annotated[int, Field(ge=1, le=1000, description="Answer items drawn at most; the rest is counted as N more")]


class WhoCanView(WhoCanParams):
    limit: Limit = DEFAULT_LIMIT


class PrivescView(PrivescQuery):
    limit: Limit = DEFAULT_LIMIT


class ExposureView(ExposureQuery):
    limit: Limit = DEFAULT_LIMIT


class ReviewView(BaseModel):
    """The review's findings as a view: ``GET /review``'s defaults, with its severity filter and as-of date."""

    model_config = ConfigDict(extra="forbid")
    snapshot: SnapshotName | None = Field(None, description="Snapshot name (default: the first loaded)")
    min_severity: Literal["critical", "high", "medium", "low", "info"] | None = Field(
        None, description="Leave out findings below this severity"
    )
    as_of: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        None, description="Date ages are counted to (default: the snapshot's newest credential report time)"
    )
    limit: Annotated[int, Field(ge=1, le=1000, description="Findings listed at most")] = 1000


class ViewPayload(BaseModel):
    view: dict[str, Any] = Field(
        description="Nodes with details, edges with every hop's proof, items, caps (docs/ui.md)"
    )
    network: dict[str, Any] = Field(description="vis-network nodes, edges and options (built with pyvis)")


def _view_query(kind: str, q: BaseModel, env: Querying) -> ViewQuery:
    """The view query of a request, with the server's bounds applied (422 naming the limit when above)."""
    if isinstance(q, ReviewView):
        return ViewQuery(kind=kind, min_severity=q.min_severity, as_of=q.as_of, limit=q.limit)
    assert isinstance(q, WhatIfParams)
    whatif = env.whatif(q)
    if isinstance(q, WhoCanView):
        return ViewQuery(
            kind=kind,
            resource=q.resource,
            action=q.action,
            access_level=q.access_level,
            max_depth=env.depth(q.max_depth),
            limit=q.limit,
            whatif=whatif,
        )
    if isinstance(q, PathQuery):
        return ViewQuery(
            kind=kind,
            source=q.source,
            target=q.target,
            all_paths=q.all,
            max_depth=env.depth(q.max_depth),
            limit=env.paths(q.limit),
            whatif=whatif,
        )
    if isinstance(q, PrivescView | ExposureView):
        return ViewQuery(kind=kind, max_depth=env.depth(q.max_depth), limit=q.limit, whatif=whatif)
    assert isinstance(q, NeighbourhoodQuery)
    return ViewQuery(
        kind=kind, node=q.node, depth=env.depth(q.depth, field="depth"), limit=env.nodes(q.limit), whatif=whatif
    )


def _payload(kind: str, q: Any, env: Querying, *, redact: bool = False) -> Callable[[], dict[str, Any]]:
    entry = env.snapshot(q.snapshot)
    query = _view_query(kind, q, env)
    deadline = env.deadline()

    def compute() -> dict[str, Any]:
        view = build_view(entry.analysis, query, snapshot=entry.name, deadline=deadline)
        if redact:
            view = Redactor.for_analysis(entry.analysis).value(
                {**view, "generated": {**view["generated"], "snapshot": None}}
            )
            view["redacted"] = True
        return {"view": view, "network": network(view)}

    return compute


views = APIRouter(tags=["ui"], responses=errors(401, 404, 422, 503))


async def _answer(kind: str, q: Any, env: Querying) -> Response:
    return await env.answer(f"ui:{kind}", q, (env.snapshot(q.snapshot),), _payload(kind, q, env), bounded=False)


# (kind, its parameters, summary) in route order
_VIEWS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("who-can", WhoCanView, "who-can as a drawable view (explorer)"),
    ("path", PathQuery, "path as a drawable view (explorer)"),
    ("privesc", PrivescView, "privesc as a drawable view (explorer)"),
    ("exposure", ExposureView, "exposure as a drawable view (explorer)"),
    ("review", ReviewView, "Review findings as a view (explorer)"),
    ("neighbourhood", NeighbourhoodQuery, "A node's neighbourhood as a view"),
)
for _kind, _params, _summary in _VIEWS:
    add_get(
        views,
        f"/ui/views/{_kind}",
        _params,
        partial(_answer, _kind),
        name=f"view_{_kind.replace('-', '_')}",
        response_model=ViewPayload,
        summary=_summary,
    )


# ---- evidence files ---------------------------------------------------------------------------------------

Redact = Annotated[bool, Field(description="Replace account ids and names by stable pseudonyms (docs/ui.md)")]
# Downloads for the explorer's button, not API answers: left out of the OpenAPI description (JSON routes only).
evidence = APIRouter(include_in_schema=False)


async def _evidence(kind: str, q: Any, env: Querying) -> Response:
    """The view as ``iamgraph viz`` writes it: one HTML file, downloaded (never cached: it can be large)."""
    compute = _payload(kind, q, env, redact=q.redact)
    html = await run_in_threadpool(lambda: standalone_page(compute()))
    name = f"iamgraph-{kind}{'-redacted' if q.redact else ''}.html"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(html, headers=headers)


_PARAMS = {kind: params for kind, params, _ in _VIEWS}
for _kind in ("who-can", "path", "privesc", "exposure", "neighbourhood", "review"):
    # the view's parameters and redact, e.g. WhoCanEvidence
    _name = "".join(word.title() for word in _kind.split("-")) + "Evidence"
    add_get(
        evidence,
        f"/ui/evidence/{_kind}",
        create_model(_name, __base__=_PARAMS[_kind], redact=(Redact, False)),
        partial(_evidence, _kind),
        name=f"evidence_{_kind.replace('-', '_')}",
    )
