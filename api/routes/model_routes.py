"""Routes whose parameters are one pydantic model: GET reads it from the query string, POST from the JSON body."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import Querying, QueryingDep

__all__ = ["Handler", "add_get", "add_post"]

Handler = Callable[[Any, Querying], Awaitable[Response]]


def add_get(router: APIRouter, path: str, params: type[BaseModel], handler: Handler, **options: Any) -> None:
    """``GET path`` with the fields of ``params`` as query parameters, answered by ``handler``."""

    async def endpoint(q: Annotated[params, Query()], env: QueryingDep) -> Response:  # type: ignore[valid-type]
        return await handler(q, env)

    router.add_api_route(path, endpoint, methods=["GET"], **options)


def add_post(router: APIRouter, path: str, params: type[BaseModel], handler: Handler, **options: Any) -> None:
    """``POST path`` with ``params`` as the JSON body, answered by ``handler``."""

    async def endpoint(q: params, env: QueryingDep) -> Response:  # type: ignore[valid-type]
        return await handler(q, env)

    router.add_api_route(path, endpoint, methods=["POST"], **options)
