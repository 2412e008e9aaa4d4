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
An error in the copy is raised in the builder with the copy's traceback; the copy is killed when the
builder stops early.
"""

from __future__ import annotations

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
from collections.abc import Callable, Sequence
from typing import Any

from iamgraph.edges.base import DerivedEdge

__all__ = ["SECOND_PROCESS", "SecondProcess", "can_fork", "resolve_workers"]

# What the copy derives: together about as long as the builder's own techniques at 5,000 and 50,000
# principals (on demand), and few enough edges that handing them back costs a small part of the time saved.
SECOND_PROCESS = ("credentials", "passrole", "takeover", "trust-rewrite")
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


class SecondProcess:
    """A forked copy deriving ``names`` in order with ``derive(name)``; :meth:`take` returns each one's edges.

    Use as a context manager: leaving it early kills the copy; leaving it normally waits for it and
    records its CPU seconds and peak RSS (``cpu_seconds``, ``peak_rss_mb``)."""

    def __init__(self, names: Sequence[str], derive: Callable[[str], list[DerivedEdge]]) -> None:
        self.names = tuple(names)
        self._derive = derive
        self._folder = tempfile.mkdtemp(prefix="iamgraph-build-")
        self._pid = 0
        self._pipe = -1
        self._buffer = b""  # what the pipe gave and no line took yet
        self.cpu_seconds = 0.0
        self.peak_rss_mb = 0.0
        self.seconds: dict[str, float] = {}  # each technique's own time in the copy

    def __enter__(self) -> SecondProcess:
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
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
                    pickle.dump(edges, f, protocol=pickle.HIGHEST_PROTOCOL)
                del edges
                _write_all(pipe, f"ok {i} {seconds!r}\n".encode())
        except BaseException:
            text = traceback.format_exc().replace("\n", "\\n")
            _write_all(pipe, f"error {text}\n".encode())
            raise

    def take(self, name: str) -> list[DerivedEdge]:
        """The kept edges of ``name`` (the next in ``names``), waiting for the copy when it is not done."""
        i = len(self.seconds)
        if i >= len(self.names) or self.names[i] != name:
            raise RuntimeError(f"the build's second process derives {self.names}, asked for {name} at {i}")
        line = self._line().decode()
        if line.startswith("error "):
            raise RuntimeError(f"the build's second process failed on {name}:\n" + line[6:].replace("\\n", "\n"))
        parts = line.split()
        if len(parts) != 3 or parts[0] != "ok" or parts[1] != str(i):
            raise RuntimeError(f"the build's second process ended without the edges of {name} ({self._status()})")
        self.seconds[name] = float(parts[2])
        path = os.path.join(self._folder, f"{i}.pickle")
        with open(path, "rb") as f:
            edges: list[DerivedEdge] = pickle.load(f)
        os.unlink(path)
        return edges

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
        try:
            _, status, usage = os.wait4(self._pid, 0)
        except ChildProcessError:
            return "no status"
        self._pid = 0
        self._usage(usage)
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit status {os.waitstatus_to_exitcode(status)}"

    def _usage(self, usage: Any) -> None:
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.peak_rss_mb = usage.ru_maxrss / 1024.0  # KiB on Linux

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if self._pid:
                if exc_type is not None or len(self.seconds) < len(self.names):
                    os.kill(self._pid, signal.SIGKILL)
                _, _, usage = os.wait4(self._pid, 0)
                self._pid = 0
                self._usage(usage)
        finally:
            if self._pipe >= 0:
                os.close(self._pipe)
                self._pipe = -1
            shutil.rmtree(self._folder, ignore_errors=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
