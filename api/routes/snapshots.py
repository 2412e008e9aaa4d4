"""Named snapshots: list, show, upload (tar.gz or zip of a snapshot directory), delete.

On a Neo4j server the list and counts come from the database; upload and delete need the in-memory store
(snapshots enter Neo4j with ``iamgraph neo4j load``) and answer 501.
"""

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.archive import ArchiveLimits, extract, snapshot_root
from api.deps import GraphsDep, RegistryDep, SettingsDep, json_response
from api.errors import ApiError
from api.graphs import Graphs, needs_memory
from api.registry import NAME_PATTERN, SnapshotEntry, SnapshotRegistry
from api.routes import errors
from api.schemas import SnapshotInfo, SnapshotList
from api.settings import Settings
from iamgraph.store import load_analysis

router = APIRouter(prefix="/snapshots", tags=["snapshots"], responses=errors(401, 404))
log = logging.getLogger("iamgraph.api")

Name = Annotated[str, PathParam(pattern=NAME_PATTERN, description="Snapshot name")]
_ARCHIVE_BODY = {
    "required": True,
    "description": "A tar.gz or zip of the snapshot directory (docs/snapshot-format.md)",
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in ("application/gzip", "application/zip", "application/octet-stream")
    },
}


def _info(registry: SnapshotRegistry, entry: SnapshotEntry) -> dict[str, object]:
    return entry.info(default=registry.default == entry.name)


def _in_memory(graphs: Graphs, what: str) -> None:
    if graphs.kind != "memory":
        raise needs_memory(what)


def _one_process(settings: Settings, what: str) -> None:
    """Several worker processes each hold the snapshots: a change in one would not reach the others."""
    if settings.workers > 1:
        raise ApiError(
            403,
            "snapshots_fixed",
            f"snapshots cannot be {what} on a server with {settings.workers} worker processes (--workers)",
            {"limit": "workers", "value": settings.workers},
        )


@router.get(
    "",
    response_model=SnapshotList,
    responses=errors(503),
    summary="The snapshots served (in memory, or in Neo4j); the default first in memory",
)
def list_snapshots(graphs: GraphsDep) -> Response:
    return json_response(graphs.listing())


@router.get("/{name}", response_model=SnapshotInfo, responses=errors(503), summary="One snapshot's counts and origin")
def show_snapshot(name: Name, graphs: GraphsDep) -> Response:
    return json_response(graphs.info(name))


async def _receive(request: Request, target: Path, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    size = 0
    with target.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            out.write(chunk)
    if size == 0:
        raise ApiError(422, "validation_error", "body: an archive is required", {"errors": [{"field": "body"}]})


def _too_large(limit: int) -> ApiError:
    detail = {"limit": "max_upload_bytes", "value": limit}
    return ApiError(413, "upload_too_large", f"the upload is larger than {limit} bytes", detail)


def _unpack_and_load(archive: Path, work: Path, settings: Settings) -> tuple[SnapshotEntry, float]:
    started = time.perf_counter()
    dest = work / "snapshot"
    dest.mkdir()
    limits = ArchiveLimits(max_bytes=settings.max_uncompressed_bytes, max_files=settings.max_archive_files)
    extract(archive, dest, limits)
    analysis = load_analysis(
        snapshot_root(dest), use_cache=settings.use_cache, resource_access=settings.resource_access
    )
    return SnapshotEntry("", analysis, "upload", 0.0), time.perf_counter() - started


@router.post(
    "",
    status_code=201,
    response_model=SnapshotInfo,
    responses=errors(403, 409, 413, 415, 422, 501),
    openapi_extra={"requestBody": _ARCHIVE_BODY},
    summary="Upload a snapshot archive; it is unpacked in its own folder, validated by loading, then kept in memory",
)
async def upload_snapshot(
    request: Request,
    registry: RegistryDep,
    settings: SettingsDep,
    graphs: GraphsDep,
    name: Annotated[str, Query(pattern=NAME_PATTERN, description="Name of the new snapshot")],
    replace: Annotated[bool, Query(description="Replace a snapshot of that name")] = False,
) -> Response:
    _in_memory(graphs, "uploading a snapshot")
    _one_process(settings, "uploaded")
    if not settings.allow_upload:
        raise ApiError(403, "uploads_disabled", "this server does not accept uploads (IAMGRAPH_ALLOW_UPLOAD)")
    registry.check_room(name, replace=replace)
    work = Path(tempfile.mkdtemp(prefix="iamgraph-upload-"))
    try:
        archive = work / "upload.bin"
        await _receive(request, archive, settings.max_upload_bytes)
        loaded, seconds = await run_in_threadpool(_unpack_and_load, archive, work, settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    entry = SnapshotEntry(name, loaded.analysis, "upload", seconds)
    registry.add(entry, replace=replace)
    log.info("snapshot %s uploaded and loaded in %.1f s", name, seconds)
    return json_response(_info(registry, entry), status_code=201)


@router.delete(
    "/{name}",
    response_model=SnapshotInfo,
    responses=errors(403, 501),
    summary="Forget a snapshot (returns what was deleted)",
)
def delete_snapshot(name: Name, registry: RegistryDep, graphs: GraphsDep, settings: SettingsDep) -> Response:
    _in_memory(graphs, "deleting a snapshot")
    _one_process(settings, "deleted")
    entry = registry.remove(name)
    return json_response(entry.info(default=False))
