"""Apps over the small fixtures (analysed once per session, no on-disk cache) and their test clients."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from iamgraph.graph.queries import Analysis
from iamgraph.ingest import load_snapshot

ROOT = Path(__file__).resolve().parents[2]
SINGLE = ROOT / "fixtures" / "small" / "single-account"
ORG = ROOT / "fixtures" / "small" / "org"
DEMO = ROOT / "fixtures" / "demo-org"
A = "111122223333"
BUCKET = "arn:aws:s3:::acme-prod-reports"
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB = f"arn:aws:iam::{A}:user/engineering/bob"
AUDITOR = f"arn:aws:iam::{A}:role/auditor"
EXTERNAL = "arn:aws:iam::444455556666:root"
TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="session")
def analyses() -> dict[str, tuple[Analysis, float]]:
    return {
        "single": (Analysis.of(load_snapshot(SINGLE)), 0.0),
        "org": (Analysis.of(load_snapshot(ORG)), 0.0),
    }


@pytest.fixture(scope="session")
def demo() -> dict[str, tuple[Analysis, float]]:
    return {"demo": (Analysis.of(load_snapshot(DEMO)), 0.0)}


def make_app(preloaded: dict[str, tuple[Analysis, float]], **settings: Any) -> FastAPI:
    return create_app(Settings(data="", use_cache=False, **settings), preloaded=preloaded)


@pytest.fixture
def client(analyses: dict[str, tuple[Analysis, float]]) -> Iterator[TestClient]:
    with TestClient(make_app(analyses)) as c:
        yield c


@pytest.fixture
def demo_client(demo: dict[str, tuple[Analysis, float]]) -> Iterator[TestClient]:
    with TestClient(make_app(demo)) as c:
        yield c


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The stable error shape; returns its detail."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    detail: dict[str, Any] = body["error"]["detail"]
    return detail


def tar_gz(files: dict[str, bytes], *, prefix: str = "", extra: list[tarfile.TarInfo] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info)
    return buf.getvalue()


def zip_bytes(files: dict[str, bytes], *, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(prefix + name, data)
    return buf.getvalue()


def snapshot_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
