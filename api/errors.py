"""One error shape for every 4xx/5xx: ``{"error": {"code", "message", "detail"}}``.

Library errors map here (InputError -> 422, NodeNotFound -> 404 with close matches, SnapshotNotFound -> 404
with the snapshots there are, LimitExceeded -> 422 naming the limit, StoreUnavailable -> 503);
``HTTPException`` is raised only in this package.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from iamgraph.errors import InputError, StoreUnavailable
from iamgraph.graph.queries import LimitExceeded, NodeNotFound
from iamgraph.store.base import SnapshotNotFound

__all__ = ["ApiError", "error_body", "install_handlers"]

log = logging.getLogger("iamgraph.api")


class ApiError(HTTPException):
    """An HTTP error with a stable machine-readable code and a structured detail."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code
        self.message = message
        self.extra = detail


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def _json(status: int, code: str, message: str, detail: Any = None, headers: Mapping[str, str] | None = None) -> Any:
    return JSONResponse(error_body(code, message, detail), status_code=status, headers=dict(headers or {}))


def _code_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


async def _http(_: Request, exc: Exception) -> Any:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ApiError):
        return _json(exc.status_code, exc.code, exc.message, exc.extra, exc.headers)
    return _json(exc.status_code, _code_of(exc.status_code), str(exc.detail), None, exc.headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _validation(_: Request, exc: Exception) -> Any:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(e.get("loc", ())), "in": str(e.get("loc", ("body",))[0]), "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return _json(422, "validation_error", f"{first['field']}: {first['message']}", {"errors": errors})


async def _limit(_: Request, exc: Exception) -> Any:
    assert isinstance(exc, LimitExceeded)
    return _json(422, "limit_exceeded", str(exc.reason), {"limit": exc.limit, "value": exc.value})


async def _not_found(_: Request, exc: Exception) -> Any:
    assert isinstance(exc, NodeNotFound)
    detail = {"element": exc.element, "close_matches": list(exc.candidates)}
    return _json(404, "node_not_found", str(exc.reason), detail)


async def _input(_: Request, exc: Exception) -> Any:
    assert isinstance(exc, InputError)
    return _json(422, "invalid_input", str(exc.reason), {"where": exc.where or None, "element": exc.element or None})


async def _snapshot_missing(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, SnapshotNotFound)
    graphs = getattr(request.app.state, "graphs", None)  # a server serving some snapshots lists only those
    names = graphs.visible(exc.available) if graphs is not None else exc.available
    return _json(404, "snapshot_not_found", f'no snapshot named "{exc.snapshot}"', {"snapshots": names})


async def _unavailable(request: Request, exc: Exception) -> Any:
    # the message names the server and the user, never the password
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return _json(503, "store_unavailable", str(exc))


async def _internal(request: Request, exc: Exception) -> Any:
    log.error("unhandled error on %s %s: %r", request.method, request.url.path, exc, exc_info=exc)
    return _json(500, "internal_error", "internal server error")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(LimitExceeded, _limit)
    app.add_exception_handler(NodeNotFound, _not_found)
    app.add_exception_handler(SnapshotNotFound, _snapshot_missing)
    app.add_exception_handler(InputError, _input)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(Exception, _internal)
