"""The build with a second process (``workers=2``) makes the graph of the build in one process."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from iamgraph.edges.base import DerivedEdge
from iamgraph.edges.registry import TECHNIQUES, techniques
from iamgraph.graph import build_graph
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.parallel import PARALLEL_PRINCIPALS, SECOND_PROCESS, can_fork, resolve_workers
from iamgraph.ingest import load_snapshot

from .estate_builder import demo_or_generated

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="a second process needs os.fork")


def _everything(g: AccessGraph) -> list[Any]:
    """Nodes with their data, then every edge with its key and JSON, in the graph's own order."""
    nodes = [json.dumps([n, d], sort_keys=True, default=str) for n, d in g.graph.nodes(data=True)]
    edges = [
        json.dumps([u, v, k, d["edge"].to_json()], sort_keys=True, default=str)
        for u, v, k, d in g.graph.edges(keys=True, data=True)
    ]
    return [nodes, edges, g.admins()]


@pytest.mark.parametrize("seed", [None, 3, 11])
@pytest.mark.parametrize("mode", ["eager", "on-demand"])
def test_two_processes_make_the_graph_of_one(tmp_path: Path, seed: int | None, mode: str) -> None:
    snapshot = load_snapshot(demo_or_generated(tmp_path, seed, principals=90, accounts=3, resources=150))
    one = build_graph(snapshot, resource_access=mode, workers=1)
    two = build_graph(snapshot, resource_access=mode, workers=2)
    assert "handover" in two.timings and "handover" not in one.timings  # the copy really derived some
    assert _everything(two) == _everything(one)
    assert any(e.technique.startswith("iam:PassRole") for e in two.edges())  # the copy's edges came back
    assert [k for k in two.timings if k.startswith("technique:")] == [
        k for k in one.timings if k.startswith("technique:")
    ]


def test_hostile_names_survive_the_handover() -> None:
    snapshot = load_snapshot(FIXTURES / "hostile")
    assert _everything(build_graph(snapshot, workers=2)) == _everything(build_graph(snapshot, workers=1))


def _replace(monkeypatch: pytest.MonkeyPatch, name: str, derive: Any) -> None:
    techniques()
    monkeypatch.setitem(TECHNIQUES, name, dataclasses.replace(TECHNIQUES[name], derive=derive))


def _in_the_copy_only(monkeypatch: pytest.MonkeyPatch, name: str, fail: Any) -> None:
    """``name`` calls ``fail()`` in the copy (a process other than this one) and derives as usual here."""
    techniques()
    here, derive = os.getpid(), TECHNIQUES[name].derive

    def derive_or_fail(estate: Any) -> Iterable[DerivedEdge]:
        if os.getpid() != here:
            fail()
        return derive(estate)

    _replace(monkeypatch, name, derive_or_fail)


def _raise() -> None:
    raise ValueError("no edges from this technique today")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize(
    ("fail", "said"),
    [(_raise, "failed on .*: ValueError: no edges from this technique today"), (_die, "killed by signal 9")],
)
@pytest.mark.parametrize("which", [0, -1])
def test_a_copy_that_fails_or_dies_leaves_its_techniques_to_the_builder(
    monkeypatch: pytest.MonkeyPatch, fail: Any, said: str, which: int
) -> None:
    snapshot = load_snapshot(FIXTURES / "demo-org")
    one = build_graph(snapshot, workers=1)
    _in_the_copy_only(monkeypatch, SECOND_PROCESS[which], fail)
    two = build_graph(snapshot, workers=2)
    assert _everything(two) == _everything(one)
    (warning,) = [w for w in two.warnings if w not in one.warnings]
    assert re.search(f"second process .*{said}.*derived in the building process", warning), warning


def test_an_error_of_a_technique_is_raised_by_the_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(estate: object) -> Iterator[DerivedEdge]:
        raise ValueError("no edges from this technique today")
        yield  # pragma: no cover

    _replace(monkeypatch, SECOND_PROCESS[-1], broken)
    with pytest.raises(ValueError, match="no edges from this technique today"):
        build_graph(load_snapshot(FIXTURES / "demo-org"), workers=2)


def test_no_fork_no_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = load_snapshot(FIXTURES / "demo-org")
    one = build_graph(snapshot, workers=1)

    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    two = build_graph(snapshot, workers=2)
    assert _everything(two) == _everything(one) and "handover" not in two.timings
    assert [w for w in two.warnings if w not in one.warnings] == [
        "build: no second process ([Errno 11] Resource temporarily unavailable); every technique was derived in "
        "the building process"
    ]


def test_an_unreadable_hand_over_is_derived_here(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    snapshot = load_snapshot(FIXTURES / "demo-org")
    one = build_graph(snapshot, workers=1)

    def unreadable(f: object) -> object:
        raise pickle.UnpicklingError("truncated")

    monkeypatch.setattr("iamgraph.graph.parallel.pickle.load", unreadable)
    two = build_graph(snapshot, workers=2)
    assert _everything(two) == _everything(one)
    assert any("unreadable: truncated" in w for w in two.warnings)


def test_an_error_here_stops_the_copy_and_leaves_no_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    started: list[float] = []

    def slow(estate: object) -> Iterable[DerivedEdge]:  # in the copy: would hold the build for a minute
        time.sleep(60)
        return []

    def broken(estate: object) -> Iterable[DerivedEdge]:  # here
        started.append(time.monotonic())
        raise KeyError("stop")

    forked: list[int] = []
    fork = os.fork

    def recorded() -> int:
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    _replace(monkeypatch, SECOND_PROCESS[0], slow)
    _replace(monkeypatch, "assume-role", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(os, "fork", recorded)
    with pytest.raises(KeyError, match="stop"):
        build_graph(load_snapshot(FIXTURES / "demo-org"), workers=2)
    assert time.monotonic() - started[0] < 30  # killed, not waited for
    assert list(tmp_path.iterdir()) == []  # the hand-over folder is gone
    (pid,) = forked
    with pytest.raises(ChildProcessError):  # and the copy reaped
        os.waitpid(pid, os.WNOHANG)


def test_workers_are_resolved() -> None:
    assert resolve_workers(1, 10**6) == 1
    assert resolve_workers(None, PARALLEL_PRINCIPALS - 1) == 1
    assert resolve_workers(None, PARALLEL_PRINCIPALS) == (2 if can_fork() else 1)
    with pytest.raises(ValueError, match="workers must be 1 or 2"):
        resolve_workers(3, 10)


def test_no_fork_beside_other_threads() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        assert resolve_workers(None, 10**6) == 1
    finally:
        stop.set()
        other.join()


def test_the_cli_progress_bar_keeps_the_build_alone_in_its_process() -> None:
    from rich.console import Console

    from iamgraph.cli import _with_progress

    err = Console(stderr=True, force_terminal=True, file=open(os.devnull, "w"))  # noqa: SIM115
    try:
        before = threading.active_count()  # other tests may have left threads of their own
        assert _with_progress(lambda progress: (progress("x", 1, 2), threading.active_count())[1], err) == before
    finally:
        err.file.close()


@pytest.mark.parametrize(("workers", "handover"), [("2", True), ("1", False)])
def test_cli_graph_build_workers(workers: str, handover: bool) -> None:
    from typer.testing import CliRunner

    from iamgraph.cli import app

    result = CliRunner().invoke(app, ["graph", "build", str(FIXTURES / "demo-org"), "--json", "--workers", workers])
    assert result.exit_code == 0, result.output
    assert ("handover" in json.loads(result.stdout)["timings"]) is handover


def test_cli_graph_build_refuses_three_workers() -> None:
    from typer.testing import CliRunner

    from iamgraph.cli import app

    result = CliRunner().invoke(app, ["graph", "build", str(FIXTURES / "demo-org"), "--workers", "3"])
    assert result.exit_code == 2


def test_hand_over_packs_class_copies_and_restores_every_edge() -> None:
    """The copy hands edges over as the distinct field values and a source per edge: copies of one edge for
    other sources (same objects in every other field) share their values; equal values held by other
    objects stay apart; the edges come back equal and in order."""
    from iamgraph.edges.base import EdgeKind
    from iamgraph.graph.parallel import _pack, _unpack

    proof: tuple[Any, ...] = ()
    first = DerivedEdge(source="a", target="t", kind=EdgeKind.ESCALATE, technique="x", actions=("s:A",), proof=proof)
    copies = [dataclasses.replace(first, source=s) for s in ("b", "c")]
    other = DerivedEdge(source="a", target="u", kind=EdgeKind.ESCALATE, technique="x", actions=("s:A", "s:B"))
    edges = [first, other, *copies, dataclasses.replace(other, source="d", note="n")]
    bodies, sources, picks = _pack(edges)
    assert sources == ["a", "a", "b", "c", "d"] and len(bodies) == 3
    assert _unpack(bodies, sources, picks) == edges
    with pytest.raises(ValueError):
        _unpack(bodies, sources[:-1], picks)
