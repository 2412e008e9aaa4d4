"""`iamgraph serve`: the real server (uvicorn in a subprocess, queried over HTTP) and its refusals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from iamgraph.cli import app

from .conftest import BUCKET, ROOT, SINGLE, TOKEN

IAMGRAPH = Path(sys.executable).with_name("iamgraph")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    env = {**os.environ, "IAMGRAPH_API_TOKEN": TOKEN, "IAMGRAPH_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    cmd = [str(IAMGRAPH), "serve", "--data", str(SINGLE), "--name", "single", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("server did not become ready")
        yield base, proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[str]) -> None:
    """Ctrl-C, then a kill if the server has not ended within 20 s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_real_server_answers_over_http(server: tuple[str, subprocess.Popen[str]]) -> None:
    base, _ = server
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, timeout=30) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/snapshots").status_code == 401
        who = c.get("/queries/who-can", params={"resource": BUCKET, "action": "s3:ListBucket"}, headers=auth)
        assert who.status_code == 200 and who.json()["resource"] == BUCKET and who.json()["principals"]
        assert who.headers["x-iamgraph-bounds"].startswith("max_depth=8")
        missing = c.get("/queries/who-can", params={"resource": "nothing-here"}, headers=auth)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "node_not_found"
        assert c.get("/openapi.json").json()["info"]["title"] == "iamgraph"


def test_real_server_prints_its_url_and_stops(server: tuple[str, subprocess.Popen[str]]) -> None:
    base, proc = server
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert f"on {base}" in out
    assert TOKEN not in out + err
    assert "GET /queries/who-can 200" in err  # the access log


runner = CliRunner()


def test_serve_refuses_a_public_bind_without_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IAMGRAPH_API_TOKEN", raising=False)
    r = runner.invoke(app, ["serve", "--data", str(SINGLE), "--host", "0.0.0.0"])
    assert r.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without a token" in r.output
    assert "IAMGRAPH_API_TOKEN" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "no/such/dir"], "no such file or directory"),
        (["--data", str(SINGLE), "--name", "a", "--name", "b"], "one --name per --data"),
        (["--data", str(SINGLE), "--data", str(SINGLE), "--name", "x", "--name", "x"], 'two snapshots named "x"'),
        (["--data", str(SINGLE), "--name", "../x"], "snapshot names are"),
        (["--data", str(SINGLE), "--name", "a/b"], "snapshot names are"),
        (["--data", str(ROOT / "fixtures" / "small" / "bad" / "malformed-json")], "authorization-details.json"),
        ([], "at least one snapshot directory"),
    ],
    ids=["missing-dir", "extra-name", "duplicate-name", "bad-name", "slash-name", "bad-snapshot", "no-data"],
)
def test_serve_bad_arguments_exit_2(monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    monkeypatch.delenv("IAMGRAPH_DATA", raising=False)
    r = runner.invoke(app, ["serve", "--no-cache", *args])
    assert r.exit_code == 2, r.output
    assert message in r.output
