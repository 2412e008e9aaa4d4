"""ASGI middleware: the access log (method, path, status, duration) and the request-body size cap.

The access log never includes headers or the query string: the Authorization header and what-if values
(an ``sts:ExternalId``, say) stay out of the logs.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError

__all__ = ["AccessLog", "BodyLimit"]

access_log = logging.getLogger("iamgraph.api.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            ms = (time.perf_counter() - started) * 1000
            access_log.info("%s %s %d %.1fms", scope["method"], scope["path"], status, ms)


class BodyLimit:
    """413 for a body above ``limit`` bytes (declared or streamed), except on the upload route."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt: tuple[tuple[str, str], ...] = ()) -> None:
        self.app, self.limit, self.exempt = app, limit, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"].rstrip("/")) in self.exempt:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._reject(send)
            return
        seen = 0
        started = False

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise self._error()
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped, send_wrapper)
        except ApiError:  # raised by capped() where FastAPI does not turn it into the error response itself
            if not started:
                await self._reject(send)

    def _error(self) -> ApiError:
        detail: dict[str, Any] = {"limit": "max_body_bytes", "value": self.limit}
        return ApiError(413, "body_too_large", f"the body is larger than {self.limit} bytes", detail)

    async def _reject(self, send: Send) -> None:
        exc = self._error()
        body = json.dumps({"error": {"code": exc.code, "message": exc.message, "detail": exc.extra}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
