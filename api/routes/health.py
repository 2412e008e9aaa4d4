"""Liveness and readiness; open even when a token is configured."""

from fastapi import APIRouter

from api.deps import GraphsDep
from api.routes import errors
from api.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    responses=errors(503),
    summary="A snapshot is loaded and queryable (Neo4j: the server answers and holds a snapshot)",
)
def readyz(graphs: GraphsDep) -> Ready:
    return graphs.ready()
