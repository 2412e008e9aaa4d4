"""Snapshot upload (tar.gz, zip), validation by loading, safe unpacking, size limits, delete."""

from __future__ import annotations

import io
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iamgraph.graph.queries import Analysis

from .conftest import BUCKET, ROOT, SINGLE, assert_error, make_app, snapshot_files, tar_gz, zip_bytes

GZ = {"content-type": "application/gzip"}


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Uploads unpack below this folder; every test checks it is left empty."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path
    assert list(tmp_path.iterdir()) == [], "an upload left files behind"


@pytest.fixture
def up(analyses: dict[str, tuple[Analysis, float]], scratch: Path) -> Iterator[TestClient]:
    with TestClient(make_app(analyses)) as c:
        yield c


def _small(analyses: dict[str, tuple[Analysis, float]], **settings: Any) -> TestClient:
    return TestClient(make_app(analyses, **settings))


def test_upload_tar_gz_query_and_delete(up: TestClient) -> None:
    r = up.post(
        "/snapshots", params={"name": "uploaded"}, content=tar_gz(snapshot_files(SINGLE), prefix="snap/"), headers=GZ
    )
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["name"] == "uploaded" and info["source"] == "upload" and info["accounts"] == 1
    assert "uploaded" in [s["name"] for s in up.get("/snapshots").json()["snapshots"]]
    who = up.get("/queries/who-can", params={"resource": BUCKET, "snapshot": "uploaded"})
    assert who.status_code == 200 and who.json()["principals"]
    gone = up.delete("/snapshots/uploaded")
    assert gone.status_code == 200 and gone.json()["name"] == "uploaded"
    assert_error(up.get("/snapshots/uploaded"), 404, "snapshot_not_found")
    assert_error(up.get("/queries/privesc", params={"snapshot": "uploaded"}), 404, "snapshot_not_found")


def test_upload_zip_without_a_top_folder(up: TestClient) -> None:
    r = up.post("/snapshots", params={"name": "z"}, content=zip_bytes(snapshot_files(SINGLE)))
    assert r.status_code == 201, r.text


def test_name_taken_unless_replace(up: TestClient) -> None:
    body = tar_gz(snapshot_files(SINGLE))
    assert_error(up.post("/snapshots", params={"name": "single"}, content=body), 409, "snapshot_exists")
    r = up.post("/snapshots", params={"name": "single", "replace": True}, content=body)
    assert r.status_code == 201 and r.json()["source"] == "upload"


@pytest.mark.parametrize("name", ["", "../x", "a/b", "-lead", "x" * 65])
def test_bad_names(up: TestClient, name: str) -> None:
    r = up.post("/snapshots", params={"name": name}, content=b"x")
    assert r.status_code in (404, 405, 422), r.text
    assert set(r.json()) == {"error"}


def test_delete_default_moves_the_default(up: TestClient) -> None:
    assert up.delete("/snapshots/single").status_code == 200
    assert up.get("/snapshots").json()["default"] == "org"
    assert up.get("/readyz").json()["default"] == "org"


def test_upload_too_large(analyses: dict[str, tuple[Analysis, float]], scratch: Path) -> None:
    with _small(analyses, max_upload_bytes=1000) as c:
        d = assert_error(
            c.post("/snapshots", params={"name": "big"}, content=b"\x1f\x8b" + b"0" * 5000), 413, "upload_too_large"
        )
        assert d == {"limit": "max_upload_bytes", "value": 1000}

        def chunks() -> Iterator[bytes]:  # no Content-Length: the streamed size is counted
            for _ in range(10):
                yield b"\x1f\x8b" + b"0" * 500

        assert_error(c.post("/snapshots", params={"name": "big"}, content=chunks()), 413, "upload_too_large")


def _tar_with(info: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        ok = tarfile.TarInfo("snap/organization.json")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"{}"))
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


@pytest.mark.parametrize(
    ("archive", "entry"),
    [
        (lambda: _tar_with(_member("../escape.json"), b"{}"), "../escape.json"),
        (lambda: _tar_with(_member("snap/../../escape.json"), b"{}"), "snap/../../escape.json"),
        (lambda: _tar_with(_member("/tmp/absolute.json"), b"{}"), "/tmp/absolute.json"),
        (lambda: _tar_with(_member("snap\\..\\win.json"), b"{}"), "snap\\..\\win.json"),
        (lambda: _tar_with(_member("snap/link", tarfile.SYMTYPE, "/etc/passwd")), "snap/link"),
        (lambda: _tar_with(_member("snap/hard", tarfile.LNKTYPE, "snap/organization.json")), "snap/hard"),
        (lambda: _tar_with(_member("snap/dev", tarfile.CHRTYPE)), "snap/dev"),
        (lambda: _tar_with(_member("snap/blk", tarfile.BLKTYPE)), "snap/blk"),
        (lambda: _tar_with(_member("snap/fifo", tarfile.FIFOTYPE)), "snap/fifo"),
        (lambda: zip_bytes({"../escape.json": b"{}"}), "../escape.json"),
        (lambda: zip_bytes({"/abs.json": b"{}"}), "/abs.json"),
    ],
    ids=[
        "tar-dotdot",
        "tar-nested-dotdot",
        "tar-absolute",
        "tar-backslash",
        "tar-symlink",
        "tar-hardlink",
        "tar-char-device",
        "tar-block-device",
        "tar-fifo",
        "zip-dotdot",
        "zip-absolute",
    ],
)
def test_unsafe_archives_are_rejected_whole(up: TestClient, scratch: Path, archive: Any, entry: str) -> None:
    d = assert_error(up.post("/snapshots", params={"name": "evil"}, content=archive()), 422, "unsafe_archive")
    assert d == {"entry": entry}
    assert not (scratch.parent / "escape.json").exists()
    assert "evil" not in [s["name"] for s in up.get("/snapshots").json()["snapshots"]]


def test_zip_symlink_is_rejected(up: TestClient) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("snap/link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    d = assert_error(up.post("/snapshots", params={"name": "evil"}, content=buf.getvalue()), 422, "unsafe_archive")
    assert d == {"entry": "snap/link"}


def test_zip_bomb_and_tar_bomb_stop_at_the_size_cap(analyses: dict[str, tuple[Analysis, float]], scratch: Path) -> None:
    zeros = b"\0" * 2_000_000  # compresses to a few KiB
    with _small(analyses, max_uncompressed_bytes=100_000) as c:
        for body in (zip_bytes({"snap/accounts/x.json": zeros}), tar_gz({"snap/accounts/x.json": zeros})):
            assert len(body) < 20_000
            d = assert_error(c.post("/snapshots", params={"name": "bomb"}, content=body), 413, "archive_too_large")
            assert d == {"limit": "max_uncompressed_bytes", "value": 100_000}


def test_too_many_entries(analyses: dict[str, tuple[Analysis, float]], scratch: Path) -> None:
    files = {f"snap/f{i}.txt": b"x" for i in range(30)}
    with _small(analyses, max_archive_files=10) as c:
        for body in (zip_bytes(files), tar_gz(files)):
            d = assert_error(c.post("/snapshots", params={"name": "many"}, content=body), 413, "archive_too_large")
            assert d == {"limit": "max_archive_files", "value": 10}


def test_not_an_archive_empty_and_corrupt(up: TestClient) -> None:
    assert_error(up.post("/snapshots", params={"name": "x"}, content=b"hello"), 415, "unsupported_archive")
    assert_error(up.post("/snapshots", params={"name": "x"}, content=b""), 422, "validation_error")
    assert_error(up.post("/snapshots", params={"name": "x"}, content=b"\x1f\x8b\x08garbage"), 422, "invalid_archive")
    assert_error(up.post("/snapshots", params={"name": "x"}, content=b"PK\x03\x04garbage"), 422, "invalid_archive")


def test_archive_that_is_not_a_snapshot(up: TestClient) -> None:
    body = tar_gz({"a/readme.txt": b"x", "b/readme.txt": b"y"})
    assert_error(up.post("/snapshots", params={"name": "x"}, content=body), 422, "invalid_snapshot")


def test_invalid_snapshot_is_reported_with_file_and_element(up: TestClient) -> None:
    bad = ROOT / "fixtures" / "small" / "bad" / "malformed-json"
    d = assert_error(
        up.post("/snapshots", params={"name": "bad"}, content=tar_gz(snapshot_files(bad))), 422, "invalid_input"
    )
    assert d["where"] and "authorization-details.json" in d["where"]


def test_snapshot_count_and_disabled_uploads(analyses: dict[str, tuple[Analysis, float]], scratch: Path) -> None:
    body = tar_gz(snapshot_files(SINGLE))
    with _small(analyses, max_snapshots=2) as c:
        d = assert_error(c.post("/snapshots", params={"name": "third"}, content=body), 409, "too_many_snapshots")
        assert d == {"limit": "max_snapshots", "value": 2}
    with _small(analyses, allow_upload=False) as c:
        assert_error(c.post("/snapshots", params={"name": "x"}, content=body), 403, "uploads_disabled")
