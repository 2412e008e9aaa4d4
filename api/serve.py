"""``iamgraph serve``: load the snapshots (failing early with a clear message), then run uvicorn.

The token comes from IAMGRAPH_API_TOKEN only (a flag would show in the process list); a non-loopback
bind without one is refused. With ``--store neo4j`` nothing is loaded here: the server must answer with
the credentials given and hold the snapshots named, else one line on stderr and exit status 2.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.registry import NAME_PATTERN, name_for
from api.settings import Settings, is_loopback
from iamgraph.errors import InputError, StoreUnavailable
from iamgraph.graph.queries import Analysis

__all__ = ["serve"]


def _fail(message: str) -> int:
    sys.stderr.write(f"iamgraph serve: {message}\n")
    return 2


def _named(dirs: list[Path], names: list[str]) -> list[tuple[str, Path]] | str:
    if len(names) > len(dirs):
        return f"{len(names)} --name for {len(dirs)} --data: give one --name per --data, in the same order"
    out: list[tuple[str, Path]] = []
    for i, path in enumerate(dirs):
        name = names[i] if i < len(names) else name_for(path, [n for n, _ in out])
        if any(n == name for n, _ in out):
            return f'two snapshots named "{name}"'
        out.append((name, path))
    return out


def serve(data: list[Path], names: list[str], overrides: dict[str, Any]) -> int:
    """Exit status 2 on bad flags, an unsafe bind or a snapshot that does not load; else run until stopped."""
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        return _fail(f"invalid setting: {where}: {first['msg']}")
    if not is_loopback(settings.host) and settings.api_token is None:
        return _fail(
            f"refusing to listen on {settings.host} without a token: the API serves the whole IAM picture. "
            "Set IAMGRAPH_API_TOKEN (clients send 'Authorization: Bearer <token>') or bind 127.0.0.1."
        )
    if settings.workers > 1 and settings.store != "memory":
        return _fail("--workers is for --store memory: with neo4j the database serves the queries")
    if settings.store == "neo4j":
        if data or names:
            return _fail("--data and --name are for --store memory; load snapshots into Neo4j: iamgraph neo4j load")
        found = _check_neo4j(settings)
        return found if isinstance(found, int) else _run(settings, {}, found)
    named = _named(data or settings.data_dirs(), names)
    if isinstance(named, str):
        return _fail(named)
    if not named:
        return _fail("give at least one snapshot directory: --data DIR (or IAMGRAPH_DATA)")
    if any(not re.match(NAME_PATTERN, n) for n, _ in named):
        return _fail("snapshot names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    preloaded = _load(named, settings)
    if isinstance(preloaded, int):
        return preloaded
    return _run(settings, preloaded, ", ".join(preloaded))


def _check_neo4j(settings: Settings) -> str | int:
    """What the server will serve, after checking Neo4j answers and holds the snapshots asked for."""
    from api.graphs import open_neo4j

    try:
        store = open_neo4j(settings)
        try:
            held = store.snapshot_names()
        finally:
            store.close()
    except (StoreUnavailable, InputError) as exc:
        return _fail(str(exc))
    asked = settings.snapshot_names()
    missing = [n for n in asked if n not in held]
    if missing:
        there = ", ".join(held) or "none"
        return _fail(
            f"no snapshot {', '.join(missing)} in neo4j at {settings.neo4j_uri} (there: {there}); "
            "load it with iamgraph neo4j load --snapshot NAME"
        )
    if not held:
        sys.stderr.write(
            f"iamgraph serve: neo4j at {settings.neo4j_uri} holds no snapshot yet; /readyz answers 503 until "
            "one is loaded (iamgraph neo4j load)\n"
        )
    return f"{', '.join(asked) if asked else 'every snapshot'} in neo4j at {settings.neo4j_uri}"


def _load(named: list[tuple[str, Path]], settings: Settings) -> dict[str, tuple[Analysis, float]] | int:
    from iamgraph.store import load_analysis

    out: dict[str, tuple[Analysis, float]] = {}
    for name, path in named:
        if not path.exists():
            return _fail(f"{path}: no such file or directory")
        sys.stderr.write(f"iamgraph serve: loading {name} from {path} ...\n")
        started = time.perf_counter()
        try:
            analysis = load_analysis(  # kept until the end
                path, use_cache=settings.use_cache, freeze=True, resource_access=settings.resource_access
            )
            out[name] = (analysis, time.perf_counter() - started)
        except InputError as exc:
            return _fail(f"{path}: {exc}")
    return out


def _run(settings: Settings, preloaded: dict[str, tuple[Analysis, float]], serving: str) -> int:
    import uvicorn

    from api.main import create_app

    process = " [%(process)d]" if settings.workers > 1 else ""  # which worker wrote the line
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s{process} %(levelname)s %(name)s: %(message)s")
    app = create_app(settings.model_copy(update={"data": ""}), preloaded=preloaded)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{host}:{settings.port}"
    sock = None
    if settings.workers > 1:
        from api.prefork import bind, run_workers

        try:
            sock = bind(settings.host, settings.port)
        except OSError as exc:
            return _fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
    workers = f"; {settings.workers} worker processes" if settings.workers > 1 else ""
    sys.stdout.write(
        f"iamgraph: serving {serving} on {url}  (API docs: {url}/docs"
        f"{'; bearer token required' if settings.api_token else ''}{workers})\n"
    )
    sys.stdout.flush()
    if sock is not None:
        return run_workers(
            app,
            sock,
            settings.workers,
            max_private_bytes=settings.worker_max_private_mb * 1024 * 1024,
            prefault=settings.worker_prefault,
            uvicorn_options={"host": settings.host, "port": settings.port},
        )
    uvicorn.run(app, host=settings.host, port=settings.port, access_log=False, log_config=None)
    return 0
