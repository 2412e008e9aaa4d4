"""HTTP API under load (issue 5): concurrent clients against `iamgraph serve` on loopback.

    python bench/api_load.py                                  # 5k principals, 50 clients, 60 s
    python bench/api_load.py --clients 10 --duration 10 --principals 500 --no-docs

Generates a seeded estate with bench/generate.py (reused from .cache/bench when present; fixtures/demo-org
if the generator is missing), starts the server in a subprocess on a free loopback port, waits until it
is ready, then runs ``--clients`` asyncio clients for ``--duration`` seconds over a fixed mix of bounded
requests (who-can, can, shortest path, search, neighbourhood, node details) drawn from the estate's own
ARNs. The whole-estate reports (privesc, exposure, export) are timed once each, outside the load. Reports
throughput, p50/p99 latency per endpoint and errors (any non-2xx or transport error); writes the section
"API load (issue 5)" of docs/benchmarks.md unless --no-docs. Stops by itself: the clients at the end of
the duration, the server right after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from benchdocs import cpu_model, replace_section  # noqa: E402

SECTION = "API load (issue 5)"
Request = tuple[str, str, dict[str, Any]]  # endpoint label, path, query parameters


def _estate(args: argparse.Namespace) -> tuple[Path, str]:
    if args.data:
        return Path(args.data), f"`{args.data}`"
    generator = ROOT / "bench" / "generate.py"
    if not generator.exists():
        return ROOT / "fixtures" / "demo-org", "fixtures/demo-org (bench/generate.py not available)"
    spec = f"p{args.principals}-a{args.accounts}-s{args.seed}"
    out = ROOT / ".cache" / "bench" / f"api-estate-{spec}"
    if not (out / "accounts").is_dir():
        cmd = [sys.executable, str(generator), "--principals", str(args.principals), "--accounts", str(args.accounts)]
        cmd += ["--seed", str(args.seed), "--out", str(out), "--force"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    label = f"generated: {args.principals:,} principals, {args.accounts} accounts, seed {args.seed}"
    return out, label


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_server(
    data: Path, port: int, ready_timeout: float, workers: int = 1, log: str | None = None
) -> tuple[subprocess.Popen[bytes], float]:
    exe = Path(sys.executable).with_name("iamgraph")
    cmd = [str(exe), "serve", "--data", str(data), "--name", "bench", "--port", str(port), "--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k != "IAMGRAPH_API_TOKEN"}
    started = time.perf_counter()
    err = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (the server writes it until it stops)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"api_load: the server exited with status {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc, time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    _stop(proc)
    raise SystemExit(f"api_load: the server was not ready within {ready_timeout:.0f} s")


def _memory(pid: int) -> str:
    """The server's memory (Linux): proportional set size of the process and its workers, whose shared pages
    count once in all (RSS would count the graph once per worker)."""

    def rollup(p: int) -> dict[str, int]:
        out: dict[str, int] = {}
        with open(f"/proc/{p}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1]) * 1024
        return out

    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(x) for x in f.read().split()]
        every = [rollup(pid)]
    except OSError:
        return "not measured (needs Linux /proc)"
    for kid in kids:
        with contextlib.suppress(OSError):  # a worker that ended meanwhile (replaced)
            every.append(rollup(kid))
    pss = sum(r.get("Pss", 0) for r in every) / 1e9
    private = ", ".join(f"{r.get('Private_Dirty', 0) / 1e9:.2f}" for r in every[1:])
    text = f"{pss:.1f} GB in all (proportional set size, shared pages counted once)"
    return text + (f"; pages each worker no longer shares: {private} GB" if kids else "")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _targets(client: httpx.Client) -> dict[str, list[str]]:
    """ARNs of the estate, found through the API's own prefix search."""

    def ids(prefix: str) -> list[str]:
        r = client.get("/graph/search", params={"q": prefix, "limit": 1000})
        r.raise_for_status()
        return [m["id"] for m in r.json()["matches"]]

    principals = [a for a in ids("arn:aws:iam::") if ":user/" in a or ":role/" in a]
    resources = ids("arn:aws:s3:::") + ids("arn:aws:sqs:") + ids("arn:aws:kms:") + ids("arn:aws:secretsmanager:")
    if not principals or not resources:
        raise SystemExit("api_load: the estate has no principals or resources to query")
    return {"principals": principals, "resources": resources}


def _mix(t: dict[str, list[str]], rng: random.Random) -> list[tuple[int, Callable[[], Request]]]:
    p, r = t["principals"], t["resources"]

    def name(arn: str) -> str:
        return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]

    def action(res: str) -> str:
        return {"s3": "s3:ListBucket", "sqs": "sqs:SendMessage", "kms": "kms:Decrypt"}.get(
            res.split(":")[2], "secretsmanager:GetSecretValue"
        )

    def who() -> Request:
        res = rng.choice(r)
        return "who-can", "/queries/who-can", {"resource": res, "action": action(res)}

    def can() -> Request:
        res = rng.choice(r)
        return "can", "/queries/can", {"principal": rng.choice(p), "resource": res, "action": action(res)}

    return [
        (30, who),
        (20, can),
        (15, lambda: ("path", "/queries/path", {"source": rng.choice(p), "target": rng.choice(r), "max_depth": 6})),
        (15, lambda: ("search", "/graph/search", {"q": name(rng.choice(p))[:3], "limit": 20})),
        (10, lambda: ("neighbourhood", "/graph/neighbourhood", {"node": rng.choice(p), "depth": 1, "limit": 100})),
        (10, lambda: ("node", "/graph/node", {"node": rng.choice(p + r)})),
    ]


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str) -> tuple[int, bytes, bool]:
    """One keep-alive HTTP/1.1 GET; a minimal client so that the load generator does not need the CPU.
    Also says whether the server closes the connection after this answer (``Connection: close``, as a
    worker that is being replaced says): the next request then goes on a new connection."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = [(name.strip().lower(), value.strip().lower()) for name, _, value in (x.partition(":") for x in lines[1:])]
    length = next(int(value) for name, value in fields if name == "content-length")
    closes = ("connection", "close") in fields
    return status, await reader.readexactly(length), closes


async def _client(
    port: int, pick: Callable[[], Request], until: float, samples: dict[str, list[float]], errors: dict[str, Any]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < until:
            label, path, params = pick()
            started = time.perf_counter()
            try:
                status, body, closes = await asyncio.wait_for(_get(reader, writer, f"{path}?{urlencode(params)}"), 60)
                ok = status < 300
                why = "" if ok else f"{status} {json.loads(body).get('error', {}).get('code', '')}"
                if closes:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
                ok, why = False, type(exc).__name__
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            samples[label].append(time.perf_counter() - started)
            if not ok:
                errors[label][why] += 1
    finally:
        writer.close()


def _picker(mix: list[tuple[int, Callable[[], Request]]], rng: random.Random) -> Callable[[], Request]:
    weights = [w for w, _ in mix]
    makers = [m for _, m in mix]
    return lambda: rng.choices(makers, weights)[0]()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def _once(client: httpx.Client, path: str, params: dict[str, Any]) -> str:
    started = time.perf_counter()
    r = client.get(path, params=params, timeout=120)
    code = "" if r.status_code == 200 else f" ({r.status_code} {r.json()['error']['code']})"
    return f"{time.perf_counter() - started:.2f} s{code}, {len(r.content) / 1e6:.1f} MB"


def run(args: argparse.Namespace) -> str:
    data, label = _estate(args)
    port = _free_port()
    proc, ready = _start_server(data, port, args.ready_timeout, args.workers, args.server_log)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            info = c.get("/snapshots/bench").json()
            targets = _targets(c)
            reports = [("privesc", "/queries/privesc"), ("exposure", "/queries/exposure"), ("export", "/graph/export")]
            singles = {name: _once(c, path, {}) for name, path in reports if name in args.reports}
        rng = random.Random(args.seed)
        pick = _picker(_mix(targets, rng), rng)
        samples: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, Any] = defaultdict(lambda: defaultdict(int))

        async def load() -> float:
            started = time.monotonic()
            until = started + args.duration
            await asyncio.gather(*(_client(port, pick, until, samples, errors) for _ in range(args.clients)))
            return time.monotonic() - started

        elapsed = asyncio.run(load())
        args.memory = _memory(proc.pid)
    finally:
        _stop(proc)
    return _report(args, label, info, ready, singles, samples, errors, elapsed)


def _documented(argv: list[str]) -> list[str]:
    """The command line as the docs show it: without --no-docs, nor --server-log and its file (a path of the
    machine that ran it)."""
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a == "--server-log":
            skip = True
        elif a != "--no-docs" and not a.startswith("--server-log="):
            out.append(a)
    return out


def _report(
    args: argparse.Namespace,
    label: str,
    info: dict[str, Any],
    ready: float,
    singles: dict[str, str],
    samples: dict[str, list[float]],
    errors: dict[str, Any],
    elapsed: float,
) -> str:
    total = sum(len(v) for v in samples.values())
    failed = sum(sum(e.values()) for e in errors.values())
    every = [x for v in samples.values() for x in v]
    lines = [
        f"`python bench/api_load.py {' '.join(_documented(sys.argv[1:]))}`".replace(" `", "`") + " on "
        f"{platform.machine()}, {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
        f"{platform.system()}; "
        "server and clients on the same machine (loopback; "
        + ("one uvicorn process" if args.workers == 1 else f"{args.workers} worker processes forked after loading")
        + "; the clients are keep-alive HTTP/1.1 connections in one asyncio process).",
        "",
        f"Estate: {label} — {info.get('nodes', 0):,} nodes, {info.get('edges', 0):,} edges; server ready after "
        f"{ready:.1f} s (graph from the on-disk cache when warm). Request mix: who-can 30 %, can 20 %, shortest "
        "path 15 %, search 15 %, neighbourhood 10 %, node details 10 %, targets drawn from the estate's ARNs.",
        "",
        f"Load average of the machine when the run started: {args.load_before:.1f} (other work shares the CPUs).",
        "",
        f"**{total:,} requests in {elapsed:.1f} s: {total / elapsed:.0f} req/s, {failed} errors; overall p50 "
        f"{_pct(every, 0.5):.0f} ms, p99 {_pct(every, 0.99):.0f} ms.** Target: 0 errors, who-can p99 < 250 ms.",
        "",
        "| endpoint | requests | req/s | p50 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in sorted(samples, key=lambda k: -len(samples[k])):
        v = samples[name]
        errs = ", ".join(f"{k}: {n}" for k, n in errors[name].items()) or "0"
        lines.append(
            f"| {name} | {len(v):,} | {len(v) / elapsed:.1f} | {_pct(v, 0.5):.0f} | {_pct(v, 0.99):.0f} | "
            f"{max(v) * 1000:.0f} | {errs} |"
        )
    rate = total / elapsed if elapsed else 0.0
    lines += [
        "",
        f"Reading: the clients are closed-loop, so latency ≈ clients / throughput (Little's law: {args.clients} "
        f"clients at {rate:.0f} req/s wait about {args.clients / max(rate, 1e-9) * 1000:.0f} ms) whatever the "
        "endpoint; each server process answers on one core at a time, and repeated requests are served from "
        "its response cache without leaving the event loop.",
        "",
        f"Server memory at the end of the load: {args.memory}.",
        "",
        "Whole-estate reports, one request each before the load: "
        + "; ".join(f"{k} {v}" for k, v in singles.items())
        + ".",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--principals", type=int, default=5000)
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", help="use this snapshot directory instead of generating one")
    ap.add_argument("--workers", type=int, default=1, help="server processes (iamgraph serve --workers)")
    ap.add_argument("--server-log", help="write the server's log (access log included) to this file")
    ap.add_argument("--ready-timeout", type=float, default=3600.0, help="seconds to wait for the graph to load")
    ap.add_argument(
        "--reports",
        type=lambda text: {x.strip() for x in text.split(",") if x.strip()},
        default={"privesc", "exposure", "export"},
        help="whole-estate reports timed once before the load (comma-separated; default privesc,exposure,export)",
    )
    ap.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    args.load_before = os.getloadavg()[0]
    report = run(args)
    print(report)
    if not args.no_docs:
        replace_section(SECTION, report)


if __name__ == "__main__":
    main()
