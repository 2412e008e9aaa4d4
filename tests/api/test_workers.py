"""`iamgraph serve --workers N`: worker processes forked after loading, replaced when they end, stopped together."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from iamgraph.cli import app

from .conftest import BUCKET, ROOT, SINGLE, TOKEN
from .test_server import IAMGRAPH, _free_port, stop

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads worker processes from /proc")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return sorted(int(x) for x in f.read().split())


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for whoever adopted it to reap it."""
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


def _until(check: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _get(base: str, path: str, **params: str) -> httpx.Response:
    """A request on a connection of its own: a worker that leaves closes the connections it holds."""
    return httpx.get(f"{base}{path}", params=params, headers={**AUTH, "Connection": "close"}, timeout=30)


@contextmanager
def _serve(tmp_path: Path, **settings: str) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """``iamgraph serve --workers 2`` on the small fixture, with IAMGRAPH_<NAME> settings; stopped after."""
    port = _free_port()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "IAMGRAPH_API_TOKEN": TOKEN,
        "IAMGRAPH_CACHE_DIR": str(tmp_path / "cache"),
        **{f"IAMGRAPH_{k.upper()}": v for k, v in settings.items()},
    }
    cmd = [str(IAMGRAPH), "serve", "--data", str(SINGLE), "--name", "single", "--port", str(port), "--workers", "2"]
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {log.read_text()}")
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        _until(ready, "the server to be ready", 90)
        yield base, proc, log
    finally:
        if proc.poll() is None:
            stop(proc)


@pytest.fixture()
def workers(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    with _serve(tmp_path, worker_max_private_mb="0", worker_prefault="true") as served:
        yield served


def test_workers_share_the_load_are_replaced_and_stop_together(
    workers: tuple[str, subprocess.Popen[str], Path],
) -> None:
    base, proc, log = workers
    first = _children(proc.pid)
    assert len(first) == 2
    # each worker read every edge of the loaded snapshot before it accepted a connection (worker_prefault on)
    edges = _get(base, "/snapshots/single").json()["edges"]
    read = dict(re.findall(r"worker (\d+) read its (\d+) edges before accepting connections", log.read_text()))
    assert {int(pid) for pid in read} == set(first) and set(read.values()) == {str(edges)}, read

    expected = _get(base, "/queries/who-can", resource=BUCKET, action="s3:ListBucket").json()
    assert expected["principals"]
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: _get(base, "/queries/who-can", resource=BUCKET, action="s3:ListBucket"), range(120))
        )
    assert {r.status_code for r in answers} == {200}
    assert all(r.json() == expected for r in answers)  # every worker gives the same answer

    assert _children(proc.pid) == first  # no limit on their memory: the same two workers

    # a worker that dies is replaced; the other keeps answering meanwhile
    victim = _children(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    assert _get(base, "/healthz").status_code == 200
    _until(lambda: len(_children(proc.pid)) == 2 and victim not in _children(proc.pid), "a replacement worker")
    assert f"worker {victim} ended with status -9; starting another" in log.read_text()

    # snapshots are fixed: a change in one worker would not reach the others
    gone = _get(base, "/snapshots/single")
    assert gone.status_code == 200
    deleted = httpx.delete(f"{base}/snapshots/single", headers=AUTH, timeout=30)
    assert deleted.status_code == 403 and deleted.json()["error"]["code"] == "snapshots_fixed"
    upload = httpx.post(f"{base}/snapshots", params={"name": "x"}, content=b"x", headers=AUTH, timeout=30)
    assert upload.status_code == 403 and upload.json()["error"]["code"] == "snapshots_fixed"

    kids = _children(proc.pid)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "2 worker processes" in out
    assert all(_gone(pid) for pid in kids)
    assert TOKEN not in out + log.read_text()


def test_workers_end_when_the_server_is_killed(workers: tuple[str, subprocess.Popen[str], Path]) -> None:
    _, proc, _ = workers
    kids = _children(proc.pid)
    proc.kill()
    proc.wait()
    _until(lambda: all(_gone(p) for p in kids), "the workers to end with the server")


def test_workers_are_for_the_memory_store() -> None:
    r = CliRunner().invoke(app, ["serve", "--store", "neo4j", "--workers", "2"])
    assert r.exit_code == 2
    assert "--workers is for --store memory" in r.output


@pytest.mark.parametrize("prefault", ["true", "false"])
def test_a_worker_that_grows_is_replaced_without_failing_a_request(tmp_path: Path, prefault: str) -> None:
    # 1 MB: every worker is over it soon after it starts serving, so they are replaced one after the other
    # while the requests go on, on fresh connections and on one keep-alive connection (growth counts from
    # the end of the worker's prefault, when it has one)
    with _serve(tmp_path, worker_max_private_mb="1", worker_prefault=prefault) as (base, proc, log):
        expected = _get(base, "/queries/who-can", resource=BUCKET, action="s3:ListBucket").json()
        first = _children(proc.pid)
        answers: list[httpx.Response] = []
        started = time.monotonic()
        with httpx.Client(base_url=base, headers=AUTH, timeout=30) as kept:
            while time.monotonic() - started < 4 or len(answers) < 40:
                answers.append(_get(base, "/queries/who-can", resource=BUCKET, action="s3:ListBucket"))
                answers.append(kept.get("/queries/who-can", params={"resource": BUCKET, "action": "s3:ListBucket"}))
        assert {r.status_code for r in answers} == {200}
        assert all(r.json() == expected for r in answers)
        text = log.read_text()
        assert re.search(r"worker \d+ holds \d+ MB of its own; a fresh one takes its place", text)
        assert "starting another" not in text  # retired, not failed
        assert ("before accepting connections" in text) == (prefault == "true")
        served = set(re.findall(r"\[(\d+)\] INFO iamgraph\.api\.access: GET /queries/who-can 200", text))
        assert len(served) >= 3 and not set(first) & set(_children(proc.pid)), (served, first)


def test_connections_opened_at_once_are_spread_over_the_workers(
    workers: tuple[str, subprocess.Popen[str], Path],
) -> None:
    # 20 keep-alive clients connect at once, then each sends one request: the access log says which worker
    # answered each. Left to the event loops, the worker that woke first accepted nearly all of them.
    base, proc, log = workers
    port = int(base.rsplit(":", 1)[1])
    conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(20)]
    try:
        time.sleep(0.5)  # every connection accepted by now
        request = (
            f"GET /queries/who-can?resource={BUCKET}&action=s3:ListBucket HTTP/1.1\r\n"
            f"Host: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        ).encode()
        for c in conns:
            c.sendall(request)
        for c in conns:
            assert c.recv(12) == b"HTTP/1.1 200"
    finally:
        for c in conns:
            c.close()

    def answered() -> list[str]:
        return re.findall(r"\[(\d+)\] INFO iamgraph\.api\.access: GET /queries/who-can 200", log.read_text())

    _until(lambda: len(answered()) == 20, "20 access-log lines")
    per_worker = Counter(answered())
    assert set(per_worker) == {str(p) for p in _children(proc.pid)}
    assert min(per_worker.values()) >= 8, per_worker


def test_a_loaded_worker_steps_aside_for_each_new_connection() -> None:
    # The acceptor of a worker holding 5 connections while another holds none: it leaves a waiting
    # connection to the other for a while; once the other took it, the next connection is a new wait
    # (not one that has already waited too long, which it would take at once).
    from api.prefork import MAX_YIELD_S, _Acceptor, _Loads

    loop = asyncio.new_event_loop()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    loads = _Loads(4)
    loads.held[1] = 0  # the other worker
    acceptor = _Acceptor(listener, loads, 0, {object() for _ in range(5)}, asyncio.Protocol, loop)
    clients: list[socket.socket] = []
    try:
        acceptor.on = True
        listener.setblocking(False)
        for _ in range(2):
            clients.append(socket.create_connection(("127.0.0.1", port)))
            time.sleep(0.05)
            acceptor._ready()
            assert acceptor.pending == 0 and acceptor.timer is not None  # stepped aside
            listener.accept()[0].close()  # the other worker takes it
            acceptor.timer.cancel()
            acceptor._resume()
            time.sleep(MAX_YIELD_S * 2)
        loads.held[1] = 5  # now the other holds as many: this one takes the next at once
        clients.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(0.05)
        acceptor._ready()
        assert acceptor.pending == 1
    finally:
        acceptor.on = False
        for c in clients:
            c.close()
        listener.close()
        loop.run_until_complete(asyncio.sleep(0.01))
        loop.close()


def test_worker_slots_start_empty() -> None:
    from api.prefork import _Loads

    loads = _Loads(4)
    # no worker accepting yet, none serving yet: the parent judges no worker's growth before it serves
    assert list(loads.held) == [-1] * 4 and list(loads.base) == [-1] * 4
    loads.base[2] = 123
    assert list(loads.held) == [-1] * 4 and loads.base[2] == 123  # two arrays, not one
