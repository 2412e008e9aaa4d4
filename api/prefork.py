"""``iamgraph serve --workers N``: N server processes forked after the snapshots are loaded.

One Python process answers queries on one core at a time (the interpreter's lock), whatever its threads.
With ``--workers N`` the parent loads and indexes the snapshots once, binds the socket, and forks N
uvicorn processes that accept on it. The children share the parent's memory pages: the loaded graph is
not copied, only the pages a child writes to are: in CPython every object a query reads gets its
reference count written, so a worker's own part grows with the objects its queries touch (measured at
5,000 principals: about 1 GB for its first 1,000 who-can queries, then slower; a whole-estate report
touches nearly every edge). A worker is therefore replaced by a fresh fork once ``worker_max_private_mb``
of its pages are its own (new allocations count too, so this also bounds what its caches grow to). The
fresh fork starts first; the old worker then drains: it stops accepting, closes each client's connection
after the client's next answer, and ends. A worker that dies is replaced too, unless workers keep
dying right after they start (then the server stops, with the exit status of the last one).

The parent never answers a request and holds no event loop; it waits for its children, and on SIGINT or
SIGTERM asks each to finish (SIGTERM: uvicorn's graceful shutdown) and waits for them. On Linux a child
also ends when the parent does, even if the parent is killed outright. Fork-based: POSIX only.

Connections are spread over the workers by the workers themselves (``_Acceptor``): each publishes how many
connections it holds in memory they all share, and one that holds more than the least loaded other leaves
a waiting connection to the others for a moment. Left to the kernel and the event loop, a worker that
wakes first accepts every connection waiting (asyncio and libuv accept until the queue is empty): 50
keep-alive clients that connect at once mostly ended up on one worker, whose answers then took many
times as long as the other's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
import mmap
import os
import select
import signal
import socket
import sys
import threading
import time
from typing import Any

import uvicorn

from iamgraph._gc import freeze

__all__ = ["bind", "run_workers"]

log = logging.getLogger("iamgraph.api.workers")

QUICK_DEATH_S = 5.0  # a worker that ends sooner than this after its start is counted as failing
MAX_QUICK_DEATHS = 5  # in a row: then the server gives up instead of forking forever
POLL_S = 0.5  # how often the parent looks at its workers
DRAIN_S = 30.0  # longest a retiring worker waits for its clients to leave
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
SLOTS = 256  # workers that can publish their load at once (retiring ones included); others just accept
SLACK = 1  # a worker takes a new connection while it holds at most this many more than the least loaded one
YIELD_S = 0.002  # how long a worker holding more leaves a waiting connection to the others ...
MAX_YIELD_S = 0.05  # ... and for how long in all: then it takes it (the others may be busy with a long query)


class _Loads:
    """Connections each worker holds, one signed 64-bit number per worker slot in an anonymous shared
    mapping made before the workers are forked; -1: no worker accepting in that slot. A slot is written by
    its worker only (and reset by the parent once that worker has ended); readers may see a value a moment
    old, which only shifts a connection to a worker one more connection away from an even share.

    ``base``: per slot, the bytes the worker had made its own when it began serving (after its prefault),
    written by the worker; -1 until then. The parent measures a worker's growth from there."""

    def __init__(self, slots: int = SLOTS) -> None:
        self._map = mmap.mmap(-1, 16 * slots)
        numbers = memoryview(self._map).cast("q")
        self.held, self.base = numbers[:slots], numbers[slots:]
        for i in range(slots):
            self.held[i] = self.base[i] = -1

    def least_other(self, slot: int) -> int | None:
        """The fewest connections another accepting worker holds (None: no other)."""
        loads = [n for i, n in enumerate(self.held) if n >= 0 and i != slot]
        return min(loads) if loads else None


class _Acceptor:
    """A worker's accept loop on the shared listening socket, in place of the event loop's own server: it
    accepts one connection at a time while it holds at most ``SLACK`` more than the least loaded other
    worker, else it steps aside for ``YIELD_S`` (at most ``MAX_YIELD_S`` in a row) so that another worker
    takes the waiting connection. An accepted connection is served by uvicorn's protocol as usual."""

    def __init__(
        self,
        sock: socket.socket,
        loads: _Loads,
        slot: int,
        connections: set[Any],
        protocol: Any,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.sock, self.loads, self.slot = sock, loads, slot
        self.connections, self.protocol, self.loop = connections, protocol, loop
        self.pending = 0  # accepted, not yet among uvicorn's connections
        self.tasks: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks
        self.stepped_aside: float | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.on = False

    def held(self) -> int:
        return len(self.connections) + self.pending

    def publish(self) -> None:
        if self.on and 0 <= self.slot < len(self.loads.held):
            self.loads.held[self.slot] = self.held()

    def start(self) -> None:
        self.on = True
        self.sock.setblocking(False)
        self.loop.add_reader(self.sock.fileno(), self._ready)
        self._refresh()

    def stop(self) -> None:
        if not self.on:
            return
        self.on = False
        self.loop.remove_reader(self.sock.fileno())
        if self.timer is not None:
            self.timer.cancel()
        if 0 <= self.slot < len(self.loads.held):
            self.loads.held[self.slot] = -1

    def _refresh(self) -> None:
        """Publishes the count now and then: connections also end, and nothing tells the acceptor."""
        if self.on:
            self.publish()
            self.loop.call_later(0.05, self._refresh)

    def _resume(self) -> None:
        self.timer = None
        if not self.on:
            return
        if not select.select([self.sock], [], [], 0)[0]:
            self.stepped_aside = None  # another worker took the connection: the next one is a new wait
        self.loop.add_reader(self.sock.fileno(), self._ready)

    def _ready(self) -> None:
        while self.on:
            self.publish()
            least = self.loads.least_other(self.slot) if 0 <= self.slot < len(self.loads.held) else None
            if least is not None and self.held() > least + SLACK:
                now = time.monotonic()
                if self.stepped_aside is None:
                    self.stepped_aside = now
                if now - self.stepped_aside < MAX_YIELD_S:
                    self.loop.remove_reader(self.sock.fileno())
                    self.timer = self.loop.call_later(YIELD_S, self._resume)
                    return
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):  # none waiting, or another worker took it
                self.stepped_aside = None
                return
            except OSError as exc:  # out of descriptors, say: wait a little rather than spin
                log.warning("worker %d cannot accept a connection: %s", os.getpid(), exc)
                self.loop.remove_reader(self.sock.fileno())
                self.timer = self.loop.call_later(0.1, self._resume)
                return
            self.stepped_aside = None
            conn.setblocking(False)
            self.pending += 1
            self.publish()
            task = self.loop.create_task(self._serve(conn))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _serve(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(self.protocol, conn)
        except OSError:  # the client left before the transport was made
            conn.close()
        finally:
            self.pending -= 1


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker accepts on (address reuse on, like uvicorn's own)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _die_with_parent(parent: int) -> None:
    """Linux: this process gets SIGTERM when its parent ends (else a killed parent leaves workers serving)."""
    if not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c")
    if name is None:
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(name, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:  # the parent ended before the call above
        os._exit(0)


class _Closing:
    """ASGI wrapper: once its worker drains, every response says ``Connection: close``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.on = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def closing(message: Any) -> None:
            if self.on and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)


class _Worker(uvicorn.Server):
    """A worker's way out without failing a request: on SIGUSR1 it stops accepting connections (the other
    workers take the new ones), answers every further request with ``Connection: close`` so that clients
    holding a keep-alive connection move on after their next answer, and ends once it holds no connection
    (or after ``DRAIN_S``). Ending at once instead would close connections a client has just sent a
    request on: the client would see the server hang up without an answer."""

    def __init__(
        self, config: uvicorn.Config, closing: _Closing, sock: socket.socket, loads: _Loads, slot: int
    ) -> None:
        super().__init__(config)
        self.closing = closing
        self.sock, self.loads, self.slot = sock, loads, slot
        self.acceptor: _Acceptor | None = None
        self.drain_asked = False
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup([])  # no server of the event loop's own: the acceptor takes the connections
        if self.should_exit:
            return
        loop = self.loop = asyncio.get_running_loop()
        config, state, app_state = self.config, self.server_state, self.lifespan.state

        def protocol() -> asyncio.Protocol:  # what uvicorn's own server makes for each connection
            made: asyncio.Protocol = config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=state, app_state=app_state, _loop=loop
            )
            return made

        self.acceptor = _Acceptor(self.sock, self.loads, self.slot, state.connections, protocol, loop)
        self.acceptor.start()
        if self.drain_asked:  # asked before the worker was listening
            self._begin()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.acceptor is not None:
            self.acceptor.stop()
        await super().shutdown(sockets)

    def ask_to_drain(self, _signum: int, _frame: object) -> None:
        """The SIGUSR1 handler: hands the work to the event loop (a signal may interrupt it anywhere)."""
        self.drain_asked = True
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._begin)

    def _begin(self) -> None:
        if not self.closing.on:
            self.closing.on = True
            asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        if self.acceptor is not None:
            self.acceptor.stop()
        deadline = time.monotonic() + DRAIN_S
        while self.server_state.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.should_exit = True


_asked_early = [False]  # set in a worker that gets SIGUSR1 before its own handler is in place


def _remember_drain(_signum: int, _frame: object) -> None:
    _asked_early[0] = True


def _prefault(app: Any) -> None:
    """Read every edge of the snapshots loaded before the fork (``AccessGraph.touch_edges``), so that the
    worker copies the pages its queries will write reference counts on now, not while it answers."""
    registry = getattr(getattr(app, "state", None), "registry", None)
    if registry is None:
        return
    started, before = time.perf_counter(), _private_bytes(os.getpid())
    edges = sum(registry.get(name).analysis.graph.touch_edges() for name in registry.names())
    log.info(
        "worker %d read its %d edges before accepting connections: %.1f s, %d MB of pages now its own",
        os.getpid(),
        edges,
        time.perf_counter() - started,
        (_private_bytes(os.getpid()) - before) >> 20,
    )


def _child(
    app: Any, sock: socket.socket, config: dict[str, Any], parent: int, loads: _Loads, slot: int, prefault: bool
) -> None:
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent(parent)
        if prefault:
            _prefault(app)
        if 0 <= slot < len(loads.base):
            loads.base[slot] = _private_bytes(os.getpid())
        gc.enable()
        closing = _Closing(app)
        server = _Worker(uvicorn.Config(closing, **config), closing, sock, loads, slot)
        signal.signal(signal.SIGUSR1, server.ask_to_drain)
        server.drain_asked = _asked_early[0]  # SIGUSR1 before the line above: _remember_drain took it
        server.run()
    except BaseException:  # reported here: a child must never return into the parent's code
        log.exception("worker %d failed", os.getpid())
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _private_bytes(pid: int) -> int:
    """Pages the worker has made its own since it was forked: its minor page faults, each one a page the
    kernel copied on its first write (or a page newly allocated), 4 KiB apiece. Measured against
    /proc/PID/smaps_rollup's Private_Dirty at 5,000 principals: equal within 1 %, at a tiny fraction of the
    cost (smaps_rollup walks every page of the 13 GB process: 0.6 s a read)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[7]) * PAGE


def run_workers(
    app: Any,
    sock: socket.socket,
    workers: int,
    *,
    max_private_bytes: int = 0,
    prefault: bool = False,
    uvicorn_options: dict[str, Any] | None = None,
) -> int:
    """Fork ``workers`` uvicorn processes serving ``app`` on ``sock``, keep that many running until SIGINT
    or SIGTERM, then stop them. A worker is retired once it has made ``max_private_bytes`` of pages its own
    since it began serving (0: never; its prefault is not counted, else a limit below the prefault's size
    would replace every worker as soon as it starts): a fresh fork first takes its place, then the old one
    drains (``_Worker``). ``prefault``: each worker reads every edge of the loaded snapshots before it
    accepts connections (``_prefault``).
    Returns the exit status for the command: 0 after a requested stop."""
    if threading.active_count() > 1:  # fork copies only the calling thread; another one's locks could stay held
        names = ", ".join(t.name for t in threading.enumerate() if t is not threading.current_thread())
        log.warning("forking workers while other threads run: %s", names)
    config: dict[str, Any] = {"access_log": False, "log_config": None, **(uvicorn_options or {})}
    parent = os.getpid()
    children: dict[int, float] = {}  # pid -> start time
    slots: dict[int, int] = {}  # pid -> where it publishes its load
    loads = _Loads()
    retiring: set[int] = set()
    stopping = False

    def spawn() -> None:
        taken = set(slots.values())
        slot = next((i for i in range(SLOTS) if i not in taken), -1)  # -1: accepts without publishing
        if slot >= 0:
            loads.held[slot] = loads.base[slot] = -1
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(app, sock, config, parent, loads, slot, prefault)
        children[pid] = time.monotonic()
        if slot >= 0:
            slots[pid] = slot

    def ended(pid: int) -> None:
        slot = slots.pop(pid, -1)
        if slot >= 0:
            loads.held[slot] = -1  # it may have died holding connections

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def retire_the_grown() -> None:
        for pid in [p for p in children if p not in retiring]:
            base = loads.base[slots[pid]] if pid in slots else 0
            if base < 0:
                continue  # still reading the graph: not serving yet
            grown = _private_bytes(pid) - base
            if grown > max_private_bytes:
                log.info("worker %d holds %d MB of its own; a fresh one takes its place", pid, grown >> 20)
                retiring.add(pid)
                spawn()
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGUSR1)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, _remember_drain)  # inherited by each fork
    gc.collect()
    freeze()  # what the children share stays out of the collector's sight, and so unwritten
    quick_deaths, status = 0, 0
    try:
        for _ in range(workers):
            spawn()
        log.info("%d worker processes: %s", workers, ", ".join(str(p) for p in children))
        while children:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:  # none ended
                if max_private_bytes and not stopping:
                    retire_the_grown()
                time.sleep(POLL_S)
                continue
            started = children.pop(pid, None)
            ended(pid)
            if started is None:
                continue
            code = os.waitstatus_to_exitcode(wait_status)
            if stopping or pid in retiring:
                retiring.discard(pid)
                continue
            quick_deaths = quick_deaths + 1 if time.monotonic() - started < QUICK_DEATH_S and code != 0 else 0
            if quick_deaths >= MAX_QUICK_DEATHS:
                log.error("workers keep failing right after they start (last exit status %d); stopping", code)
                status = 1
                stop(signal.SIGTERM, None)
                continue
            if code != 0:
                log.warning("worker %d ended with status %d; starting another", pid, code)
            spawn()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()
    return status
