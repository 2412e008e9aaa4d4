"""Liveness and readiness; open even when a token is configured."""

from fastapi import APIRouter

from api.deps import RegistryDep
from api.errors import ApiError
from api.routes import errors
from api.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=errors(503), summary="A snapshot is loaded and queryable")
def readyz(registry: RegistryDep) -> Ready:
    names = registry.names()
    if not names:
        detail = {"loading": registry.loading, "load_errors": registry.load_errors}
        raise ApiError(503, "not_ready", "no snapshot is loaded yet", detail)
    return Ready(status="ready", snapshots=names, default=names[0])
