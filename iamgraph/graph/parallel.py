"""A second process for the build: some edge techniques derived in a forked copy of the builder.

The techniques read the estate and write nothing another technique reads (what they memoise is let go of
between techniques), so a copy of the builder taken after the admin marks, before the first technique,
derives the same edges as the builder itself would. The copy (``os.fork``: it shares the estate's pages
until either side writes them; nothing is serialised to start it) derives its techniques one after the
other and hands each one's kept edges back through a pickle file in a temporary folder, announced by a
line on a pipe. The builder derives the others meanwhile and adds every technique's edges to the graph in
the registry's order, so the graph, its edge order and its keys are those of a build in one process (the
tests compare them).

Only where ``os.fork`` is sound: Linux, the builder alone in its process (one thread; a forked copy of a
process whose other threads hold locks could wait for them forever). Anything else builds in one process.
The copy never fails a build: when it cannot start (no memory to fork, no temporary folder), stops with an
error, is killed (the kernel's out-of-memory killer) or hands back an unreadable file, the builder says
so in the graph's warnings and derives what it did not get itself (a technique's own error is then
raised here, with its traceback). The copy is killed when the builder stops early.
"""

from __future__ import annotations

import contextlib
import dataclasses
import operator
import os
import pickle
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from array import array
from collections.abc import Callable, Sequence

from iamgraph.edges.base import DerivedEdge
from iamgraph.model._fast import restorer

__all__ = ["SECOND_PROCESS", "CopyFailed", "SecondProcess", "can_fork", "resolve_workers"]

# What the copy derives: together about as long as the builder's own techniques at 5,000 and 50,000
# principals (on demand), and few enough edges that handing them back costs a small part of the time saved.
# Its last technique is its longest: the copy leaves once that one is handed over, so the builder takes
# those edges in with the copy's memory given back (trust-rewrite, 2 s at 50,000, is the builder's since
# session 23: the peak of both processes' memory 3,824 -> 3,682 MB there).
SECOND_PROCESS = ("credentials", "passrole", "takeover")
PARALLEL_PRINCIPALS = 2_000  # ``workers=None`` uses a second process from this many users and roles


def can_fork() -> bool:
    """Whether a forked copy of this process can run a technique safely (Linux, one thread, two CPUs)."""
    return (
        sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1 and (os.cpu_count() or 1) >= 2
    )


def resolve_workers(workers: int | None, principals: int) -> int:
    """1 or 2 processes for a build: ``None`` is 2 from ``PARALLEL_PRINCIPALS`` users and roles where
    :func:`can_fork`; an explicit 2 is honoured where ``os.fork`` works at all (tests ask for it)."""
    if workers is not None and workers not in (1, 2):
        raise ValueError(f"workers must be 1 or 2, not {workers}")
    if workers == 1:
        return 1
    if workers == 2:
        return 2 if sys.platform == "linux" and hasattr(os, "fork") else 1
    return 2 if principals >= PARALLEL_PRINCIPALS and can_fork() else 1


class CopyFailed(RuntimeError):
    """The copy did not hand a technique's edges back (an error there, killed, unreadable hand-over)."""


class SecondProcess:
    """A forked copy deriving ``names`` in order with ``derive(name)``; :meth:`take` returns each one's edges.

    Use as a context manager: leaving it early kills the copy; leaving it normally waits for it (its CPU
    seconds and peak RSS are then the process's ``RUSAGE_CHILDREN``)."""

    def __init__(self, names: Sequence[str], derive: Callable[[str], list[DerivedEdge]]) -> None:
        self.names = tuple(names)
        self._derive = derive
        self._folder = tempfile.mkdtemp(prefix="iamgraph-build-")
        self._pid = 0
        self._pipe = -1
        self._buffer = b""  # what the pipe gave and no line took yet
        self.seconds: dict[str, float] = {}  # each technique's own time in the copy

    def __enter__(self) -> SecondProcess:
        try:
            read, write = os.pipe()
        except OSError:
            shutil.rmtree(self._folder, ignore_errors=True)
            raise
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            shutil.rmtree(self._folder, ignore_errors=True)
            raise
        if pid == 0:  # the copy: derive, hand back, and leave without running the builder's exit handlers
            os.close(read)
            status = 1
            try:
                self._work(write)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._pid = pid
        self._pipe = read
        return self

    def _work(self, pipe: int) -> None:
        try:
            for i, name in enumerate(self.names):
                t0 = time.perf_counter()
                edges = self._derive(name)
                seconds = time.perf_counter() - t0
                path = os.path.join(self._folder, f"{i}.pickle")
                with open(path, "wb") as f:
                    pickle.dump(_pack(edges), f, protocol=pickle.HIGHEST_PROTOCOL)
                del edges
                _write_all(pipe, f"ok {i} {seconds!r}\n".encode())
        except BaseException:
            text = traceback.format_exc().replace("\n", "\\n")
            _write_all(pipe, f"error {text}\n".encode())
            raise

    def take(self, name: str) -> list[DerivedEdge]:
        """The kept edges of ``name`` (the next in ``names``), waiting for the copy when it is not done.
        :class:`CopyFailed` when the copy failed, died or handed back nothing readable."""
        i = len(self.seconds)
        if i >= len(self.names) or self.names[i] != name:
            raise RuntimeError(f"the build's second process derives {self.names}, asked for {name} at {i}")
        line = self._line().decode(errors="replace")
        if line.startswith("error "):
            text = line[6:].replace("\\n", "\n").strip()
            last = text.splitlines()[-1] if text else "?"
            raise CopyFailed(f"the build's second process failed on {name}: {last}")
        parts = line.split()
        if len(parts) != 3 or parts[0] != "ok" or parts[1] != str(i):
            raise CopyFailed(f"the build's second process ended without the edges of {name} ({self._status()})")
        path = os.path.join(self._folder, f"{i}.pickle")
        try:
            with open(path, "rb") as f:
                edges = _unpack(*pickle.load(f))
            os.unlink(path)
        except (OSError, EOFError, pickle.UnpicklingError, TypeError, ValueError, IndexError) as exc:
            raise CopyFailed(f"the edges of {name} from the build's second process are unreadable: {exc}") from exc
        self.seconds[name] = float(parts[2])
        return edges

    def stop(self) -> None:
        """Kill the copy (when it still runs) and reap it; its unread edges are dropped with the folder."""
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> int | None:
        """Wait for the copy to end; its wait status (None: reaped elsewhere, by a SIGCHLD handler)."""
        pid, self._pid = self._pid, 0
        try:
            return os.waitpid(pid, 0)[1]
        except ChildProcessError:
            return None

    def ready(self) -> bool:
        """Whether the copy has announced its next technique's edges (:meth:`take` would not wait)."""
        while b"\n" not in self._buffer:
            readable, _, _ = select.select([self._pipe], [], [], 0)
            if not readable:
                return False
            chunk = os.read(self._pipe, 65536)
            if not chunk:
                return True  # it ended: take says how
            self._buffer += chunk
        return True

    def _line(self) -> bytes:
        while b"\n" not in self._buffer:
            chunk = os.read(self._pipe, 65536)
            if not chunk:
                line, self._buffer = self._buffer, b""
                return line
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _status(self) -> str:
        status = self._reap()
        if status is None:
            return "no status"
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit status {os.waitstatus_to_exitcode(status)}"

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is not None or len(self.seconds) < len(self.names):
                self.stop()
            elif self._pid:
                self._reap()
        finally:
            if self._pipe >= 0:
                os.close(self._pipe)
                self._pipe = -1
            shutil.rmtree(self._folder, ignore_errors=True)


_Packed = tuple[list[tuple[object, ...]], list[str], bytes]


def _pack(edges: list[DerivedEdge]) -> _Packed:
    """``edges`` as the field values (source aside) of the distinct ones and, per edge, its source and the
    number of its values: most edges of a technique are copies of another for other sources of its class
    (``from_source``), which share every other field's objects. Pickling each edge was 2.3 s of the copy's
    time at 50,000 principals (764,456 takeover edges), on the build's critical path."""
    bodies: list[tuple[object, ...]] = []
    numbers: dict[tuple[object, ...], int] = {}
    get = numbers.get
    sources: list[str] = []
    picks = array("I")
    for e in edges:
        # the other fields, their objects by identity (alive in ``edges`` while this runs); strings by value
        key = (
            e.target,
            id(e.proof),
            id(e.conditions),
            id(e.actions),
            e.technique,
            e.note,
            id(e.via),
            id(e.access),
            id(e.kind),
        )
        n = get(key)
        if n is None:
            n = numbers[key] = len(bodies)
            bodies.append(_fields(e)[1:])
        sources.append(e.source)
        picks.append(n)
    return bodies, sources, picks.tobytes()


def _unpack(bodies: list[tuple[object, ...]], sources: list[str], picks: bytes) -> list[DerivedEdge]:
    """The edges of :func:`_pack`, in their order."""
    numbers = array("I")
    numbers.frombytes(picks)
    if len(numbers) != len(sources):
        raise ValueError(f"{len(sources)} sources for {len(numbers)} edges")
    make = restorer(DerivedEdge)
    return [make((source, *bodies[n])) for source, n in zip(sources, numbers, strict=True)]


_fields = operator.attrgetter(*(f.name for f in dataclasses.fields(DerivedEdge)))
assert dataclasses.fields(DerivedEdge)[0].name == "source"  # _pack and _unpack put it first


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
