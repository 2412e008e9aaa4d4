"""Graph build at scale (issue 3): generated estates from 1k to 50k principals, each size in its own process.

    python bench/build_scale.py [--sizes 1k,5k,20k,50k] [--seed 1] [--timeout 900] [--no-docs]
    python bench/build_scale.py --profile 5k [--profile-out FILE]

A size ``N`` is an estate of N principals over max(1, N / 250) accounts with 4 N resources (50k: 50,000
principals, 200 accounts, 200,000 resources, the target of issue 3), made by bench/generate.py with the
given seed and cached under .cache/bench/estates/ (gitignored), keyed by the parameters and a hash of
the generator's source. For each size, two fresh processes measure:

* ``parse``: ``json.load`` of every file of the snapshot, nothing else (the floor for any reader);
* ``build``: ``load_snapshot`` then ``build_graph``, with ``g.timings`` (index, each technique,
  admin), node and edge counts, and the peak RSS of the process (``ru_maxrss``). From 2,000 principals
  the build derives some techniques in a forked second process (``--workers``, ``iamgraph.graph.parallel``):
  its CPU seconds and peak RSS are reported too, and the memory column is the larger of the builder's peak
  RSS and the peak sum of both processes' PSS, sampled every ``--sample-memory`` seconds by this driver.

Sizes run in increasing order; after one fails or exceeds ``--timeout`` the larger ones are skipped.
The results are printed as markdown and written to docs/benchmarks.md, section "Graph build scale
(issue 3)". ``--profile SIZE`` instead runs cProfile over load + build of one size in this process (with
the same ``--resource-access`` and ``--skip`` as a measured build) and prints the functions with the most
own time and the most cumulative time.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from benchdocs import cpu_model, replace_section  # noqa: E402
from generate import EstateSpec, generate  # noqa: E402

CACHE = REPO / ".cache" / "bench" / "estates"
HEADING = "Graph build scale (issue 3)"
PER_ACCOUNT = 250
RESOURCES_PER_PRINCIPAL = 4
TARGET_SECONDS = 60.0
SKIP_ENV = "IAMGRAPH_BENCH_SKIP"  # techniques the build worker leaves out (--skip)
WORKERS_ENV = "IAMGRAPH_BENCH_WORKERS"  # build_graph's workers in the build worker (--workers)
TARGET_RSS_MB = 4096.0


# ---- estates -------------------------------------------------------------------------------------
def parse_size(text: str) -> int:
    text = text.strip().lower()
    if text.endswith("k"):
        return int(float(text[:-1]) * 1000)
    return int(text)


def spec_for(principals: int, seed: int) -> EstateSpec:
    accounts = max(1, principals // PER_ACCOUNT)
    return EstateSpec(principals, accounts, RESOURCES_PER_PRINCIPAL * principals, seed, single_account=accounts == 1)


def _generator_hash() -> str:
    return hashlib.sha1((HERE / "generate.py").read_bytes()).hexdigest()[:10]


def estate_dir(spec: EstateSpec, cache: Path = CACHE) -> tuple[Path, dict[str, Any]]:
    """The cached estate for ``spec`` (generated on first use) and its generator stats."""
    key = f"p{spec.principals}-a{spec.accounts}-r{spec.resources}-s{spec.seed}-g{_generator_hash()}"
    path = cache / key
    stats_file = path / ".stats.json"  # hidden: the loader ignores dot files
    if stats_file.is_file():
        return path, json.loads(stats_file.read_text())
    tmp = cache / f".{key}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    t0 = time.perf_counter()
    stats = generate(spec, tmp)
    stats["generate_seconds"] = time.perf_counter() - t0
    stats.pop("by_account", None)
    (tmp / ".stats.json").write_text(json.dumps(stats))
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    return path, stats


# ---- workers (run in a fresh process each) ---------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _data_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json") if not p.name.startswith("."))


def worker_parse(root: Path) -> dict[str, Any]:
    files = _data_files(root)
    size = sum(p.stat().st_size for p in files)
    t0 = time.perf_counter()
    for p in files:
        with p.open("rb") as handle:
            json.load(handle)
    return {"parse_seconds": time.perf_counter() - t0, "json_bytes": size, "json_files": len(files)}


def skip_techniques() -> list[str]:
    """Registers every technique, then drops those named in ``SKIP_ENV``; returns their names."""
    from iamgraph.edges.registry import TECHNIQUES, techniques

    techniques()
    skipped = [name for name in os.environ.get(SKIP_ENV, "").split(",") if name]
    for name in skipped:
        TECHNIQUES.pop(name)
    return skipped


def worker_build(root: Path) -> dict[str, Any]:
    from iamgraph.graph.build import build_graph
    from iamgraph.ingest import load_snapshot
    from iamgraph.store.cache import resource_access_mode

    skip_techniques()

    t0 = time.perf_counter()
    snapshot = load_snapshot(root)
    t1 = time.perf_counter()
    rss_loaded = _peak_rss_mb()
    # partial results, one JSON line each, so that a run stopped by the timeout still tells where it was
    print(json.dumps({"load_seconds": t1 - t0, "peak_rss_mb_after_load": rss_loaded}), flush=True)
    step = {"name": "index", "at": time.perf_counter()}
    done: dict[str, float] = {}

    def progress(name: str, _i: int, _n: int) -> None:
        now = time.perf_counter()
        done[step["name"] if step["name"] == "index" else f"technique:{step['name']}"] = now - float(step["at"])
        step.update(name=name, at=now)
        print(json.dumps({"timings": done, "running": name, "peak_rss_mb": _peak_rss_mb()}), flush=True)

    mode = resource_access_mode()  # IAMGRAPH_RESOURCE_ACCESS, set by --resource-access
    workers = os.environ.get(WORKERS_ENV, "auto")
    c1 = time.process_time()
    count = None if workers == "auto" else int(workers)
    g = build_graph(snapshot, progress=progress, resource_access=mode, workers=count)
    t2, c2 = time.perf_counter(), time.process_time()
    copy = resource.getrusage(resource.RUSAGE_CHILDREN)  # the build's second process, reaped by then
    return {
        "workers": 2 if "handover" in g.timings else 1,
        "cpu_seconds": c2 - c1,
        "copy_cpu_seconds": copy.ru_utime + copy.ru_stime,
        "copy_peak_rss_mb": copy.ru_maxrss / 1024.0,
        "running": None,
        "resource_access": mode,
        "load_seconds": t1 - t0,
        "build_seconds": t2 - t1,
        "timings": dict(g.timings),
        "nodes": g.node_counts(),
        "edges": g.edge_counts(),
        "techniques": g.technique_counts(),
        "admins": len(g.admins()),
        "peak_rss_mb_after_load": rss_loaded,
        "peak_rss_mb": _peak_rss_mb(),
    }


def run_worker(mode: str, root: Path, timeout: float, sample: float = 0.0) -> dict[str, Any]:
    """One worker process; ``sample`` > 0: every that many seconds, the sum of the proportional set sizes
    (PSS: a page shared by n processes counts 1/n in each) of the worker and the processes it forked, the
    memory the build takes from the machine (``peak_pss_mb``, the largest sum seen)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", mode, str(root)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        deadline = time.monotonic() + timeout
        peak = 0.0
        while proc.poll() is None and time.monotonic() < deadline:
            if sample > 0:
                peak = max(peak, _pss_mb(proc.pid))
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=sample if sample > 0 else 1.0)
        timed_out = proc.poll() is None
        if timed_out:
            proc.kill()
            proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    merged = _merge_lines(stdout)
    if sample > 0 and peak:
        merged["peak_pss_mb"] = peak
    if timed_out:
        where = f" in {merged['running']}" if merged.get("running") else ""
        return {**merged, "error": f"timeout after {timeout:.0f} s{where}"}
    if proc.returncode != 0:
        tail = (stderr.strip().splitlines() or ["?"])[-1]
        return {**merged, "error": f"exit {proc.returncode}: {tail}"}
    return merged


def _pss_mb(pid: int) -> float:
    """The PSS of ``pid`` and of its descendants, in MB (0 where /proc does not tell)."""
    total = 0
    pending = [pid]
    while pending:
        p = pending.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    pending += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total / 1024.0


def _merge_lines(out: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for line in out.splitlines():
        try:
            merged.update(json.loads(line))
        except json.JSONDecodeError:
            continue
    return merged


# ---- report --------------------------------------------------------------------------------------
def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def _size_label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def tables(rows: list[dict[str, Any]]) -> str:
    out = [
        "| principals | accounts | resources | input MB | generate s | JSON parse s | load_snapshot s "
        "| load / parse | build_graph s | load+build s | peak RSS MB | memory MB | nodes | edges |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r["stats"]
        b = r.get("build", {})
        p = r.get("parse", {})
        parse = p.get("parse_seconds")
        load = b.get("load_seconds")
        build = b.get("build_seconds") if "error" not in b else None
        total = load + build if load is not None and build is not None else None
        rss = b.get("peak_rss_mb")
        rss_cell = _fmt(rss, 0) if "error" not in b else (f"≥ {rss:,.0f}" if rss else "–")
        if b.get("workers") == 2:
            rss_cell += f" + {_fmt(b.get('copy_peak_rss_mb'), 0)} (copy)"
        nodes = sum(b["nodes"].values()) if "nodes" in b else None
        edges = sum(b["edges"].values()) if "edges" in b else None
        cells = [
            f"{s['principals']:,}",
            str(s["accounts"]),
            f"{s['resources']:,}",
            _fmt(p.get("json_bytes", s.get("bytes", 0)) / 1e6),
            _fmt(s.get("generate_seconds")),
            _fmt(parse, 2),
            _fmt(load),
            f"{load / parse:.0f}×" if load and parse else "–",
            _fmt(build) if "error" not in b else b["error"],
            _fmt(total),
            rss_cell,
            _fmt(memory_mb(b), 0) if "error" not in b else "–",
            f"{nodes:,}" if nodes is not None else "–",
            f"{edges:,}" if edges is not None else "–",
        ]
        out.append("| " + " | ".join(cells) + " |")
    built = [r for r in rows if r.get("build", {}).get("timings")]
    if built:
        keys: list[str] = []
        for r in built:
            running = r["build"].get("running")
            for k in [*r["build"]["timings"], *([f"technique:{running}"] if running else [])]:
                if k != "total" and k not in keys:
                    keys.append(k)
        out += ["", "build_graph seconds by step (`g.timings`; `>` the step a timeout stopped):", ""]
        out.append("| principals | " + " | ".join(k.replace("technique:", "") for k in keys) + " | total |")
        out.append("|---:|" + "---:|" * (len(keys) + 1))
        for r in built:
            t = r["build"]["timings"]
            running = r["build"].get("running")
            cells = [f"{r['stats']['principals']:,}"]
            for k in keys:
                if k in t:
                    cells.append(_fmt(t[k], 2))
                elif running and k == f"technique:{running}":
                    cells.append("> timeout")
                else:
                    cells.append("–")
            cells.append(_fmt(t.get("total"), 2))
            out.append("| " + " | ".join(cells) + " |")
        complete = [r for r in built if "edges" in r["build"]]
        kinds: list[str] = sorted({k for r in complete for k in r["build"]["edges"]})
        if complete:
            out += ["", "Edges by kind:", ""]
            out.append("| principals | " + " | ".join(kinds) + " | admins |")
            out.append("|---:|" + "---:|" * (len(kinds) + 1))
            for r in complete:
                e = r["build"]["edges"]
                out.append(
                    f"| {r['stats']['principals']:,} | "
                    + " | ".join(f"{e.get(k, 0):,}" for k in kinds)
                    + f" | {r['build']['admins']:,} |"
                )
    return "\n".join(out)


def verdict(rows: list[dict[str, Any]]) -> str:
    done = [r for r in rows if "error" not in r.get("build", {"error": ""})]
    largest = max(done, key=lambda r: r["stats"]["principals"], default=None)
    reached = f"{largest['stats']['principals']:,} principals" if largest else "no size"
    big = [r for r in rows if r["stats"]["principals"] >= 50000]
    if not big:
        return f"Target size (50,000 principals) not run in this pass; largest size built: {reached}."
    b = big[0].get("build", {})
    if "error" in b:
        load = f"load_snapshot alone took {b['load_seconds']:.0f} s; " if "load_seconds" in b else ""
        return (
            f"50,000 principals: {load}build_graph did not finish ({b['error']}); target < "
            f"{TARGET_SECONDS:.0f} s and < {TARGET_RSS_MB:,.0f} MB: NOT met. Largest size built: {reached}."
        )
    total = b["load_seconds"] + b["build_seconds"]
    memory = memory_mb(b)
    ok = total < TARGET_SECONDS and memory < TARGET_RSS_MB
    return (
        f"50,000 principals: load + build {total:.1f} s (target < {TARGET_SECONDS:.0f} s), memory "
        f"{memory:,.0f} MB (target < {TARGET_RSS_MB:,.0f} MB): {'met' if ok else 'NOT met'}."
    )


def memory_mb(b: dict[str, Any]) -> float:
    """What the build took from the machine: the builder's peak RSS in one process; with a second process,
    the larger of that and the sampled peak PSS of both (``--sample-memory``), or, not sampled, the sum of
    both peak RSS (an upper bound: the pages they share count twice)."""
    rss = float(b.get("peak_rss_mb") or 0.0)
    if b.get("workers") != 2:
        return rss
    if "peak_pss_mb" in b:
        return max(rss, float(b["peak_pss_mb"]))
    return rss + float(b.get("copy_peak_rss_mb") or 0.0)


def section(rows: list[dict[str, Any]], sizes: str, seed: int, note: str = "") -> str:
    cmd = f"python bench/build_scale.py --sizes {sizes} --seed {seed}"
    return "\n".join(
        [
            f"`{cmd}` — {time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
            f"{os.cpu_count()} cores ({cpu_model()}), one process per size; after the first size that does not "
            "finish, larger sizes run for the probe timeout only (load time, first steps)."
            + (f" {note}" if note else ""),
            "",
            "Estates from `bench/generate.py` (seed 1): N principals (40 % users in groups, 60 % roles), "
            f"max(1, N/{PER_ACCOUNT}) accounts in an organization with SCPs and an RCP, "
            f"{RESOURCES_PER_PRINCIPAL} N resources (S3, KMS, SQS, SNS, Secrets, Lambda, EC2, DynamoDB) with "
            "resource policies, customer and AWS-managed-like policies with wildcards, NotAction, NotResource, "
            "Deny, conditions and boundaries, cross-account trusts and escalation permissions. "
            "*JSON parse* is `json.load` of every file and nothing else; *load_snapshot* reads, parses every "
            "policy and resolves references; *build_graph* derives every edge with its proof. Peak RSS is the "
            "build process's `ru_maxrss` (load + build).",
            "",
            tables(rows),
            "",
            verdict(rows),
        ]
    )


# ---- profile -------------------------------------------------------------------------------------
class _TimeUp(Exception):
    pass


def profile(principals: int, seed: int, out: Path | None, top: int, cap: float) -> None:
    """cProfile load_snapshot, then build_graph (stopped after ``cap`` seconds if it runs longer)."""
    import signal

    from iamgraph.graph.build import build_graph
    from iamgraph.ingest import load_snapshot
    from iamgraph.store.cache import resource_access_mode

    skipped = skip_techniques()  # --skip and --resource-access as in the build workers
    mode = resource_access_mode()
    spec = spec_for(principals, seed)
    root, stats = estate_dir(spec)
    print(
        f"profiling {root.name}: {stats['principals']} principals, {stats['resources']} resources, "
        f"resource access {mode}, left out: {', '.join(skipped) or 'nothing'}",
        flush=True,
    )
    phases: list[tuple[str, cProfile.Profile]] = []
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    snapshot = load_snapshot(root)
    prof.disable()
    print(f"load_snapshot {time.perf_counter() - t0:.1f} s under cProfile", flush=True)
    phases.append(("load_snapshot", prof))

    def stop(_signum: int, _frame: object) -> None:
        raise _TimeUp

    step = {"name": "start", "at": time.perf_counter()}

    def progress(name: str, _i: int, _n: int) -> None:
        now = time.perf_counter()
        print(f"  {step['name']}: {now - step['at']:.1f} s", flush=True)
        step.update(name=name, at=now)

    prof = cProfile.Profile()
    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, cap)
    t0 = time.perf_counter()
    prof.enable()
    try:
        # one process: all of it in the profile
        build_graph(snapshot, progress=progress, resource_access=mode, workers=1)
        finished = "finished"
    except _TimeUp:
        finished = f"stopped after {cap:.0f} s in {step['name']}"
    finally:
        prof.disable()
        signal.setitimer(signal.ITIMER_REAL, 0)
    print(f"build_graph {time.perf_counter() - t0:.1f} s under cProfile ({finished})", flush=True)
    phases.append(("build_graph", prof))
    for name, p in phases:
        if out:
            p.dump_stats(str(out.with_suffix(f".{name}.pstats")))
        for key in ("tottime", "cumulative"):
            buf = io.StringIO()
            pstats.Stats(p, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
            print(f"\n==== {name} by {key}\n" + buf.getvalue().split("\n\n", 2)[-1])


# ---- main ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--sizes", default="1k,5k,20k,50k", help="principal counts, e.g. 1k,5k,20k,50k")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per size and process")
    ap.add_argument(
        "--probe-timeout",
        type=float,
        default=300.0,
        help="after a size did not finish, larger sizes still run this long (load time, first steps)",
    )
    ap.add_argument("--skip", default="", help="techniques left out of the build, e.g. resource-access")
    ap.add_argument(
        "--resource-access",
        choices=("eager", "on-demand"),
        default="eager",
        help="on-demand: the build makes the outsiders' access edges only (queries make the others)",
    )
    ap.add_argument(
        "--workers",
        choices=("auto", "1", "2"),
        default="auto",
        help="build_graph's processes (auto: two from 2,000 principals where it can fork)",
    )
    ap.add_argument(
        "--sample-memory",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="sample the PSS of the build worker and its second process this often (0: not)",
    )
    ap.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--from-json", help="render the report of an earlier --json file instead of measuring")
    ap.add_argument("--note", default="", help="a sentence added to the docs section (e.g. machine load)")
    ap.add_argument("--profile", metavar="SIZE", help="cProfile load + build of one size instead")
    ap.add_argument("--profile-out", type=Path, help="with --profile: save pstats files next to this path")
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--profile-seconds", type=float, default=300.0, help="with --profile: stop build_graph after")
    ap.add_argument("--worker", nargs=2, metavar=("MODE", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        mode, root = args.worker
        result = worker_parse(Path(root)) if mode == "parse" else worker_build(Path(root))
        print(json.dumps(result), flush=True)
        os._exit(0)  # the graph is not freed object by object: minutes at 5k principals, nothing to gain
    if args.skip:
        os.environ[SKIP_ENV] = args.skip
        args.note = f"{args.note} Techniques left out of this run: {args.skip}.".strip()
    os.environ["IAMGRAPH_RESOURCE_ACCESS"] = args.resource_access  # read by the build workers and the profile
    os.environ[WORKERS_ENV] = args.workers
    if args.profile:
        profile(parse_size(args.profile), args.seed, args.profile_out, args.top, args.profile_seconds)
        return 0
    if args.resource_access == "on-demand":
        args.note = f"{args.note} Resource access on demand: the access edges are outsiders' only.".strip()
    rows: list[dict[str, Any]] = json.loads(Path(args.from_json).read_text()) if args.from_json else []
    stop = bool(rows)
    for n in [] if rows else sorted(parse_size(s) for s in args.sizes.split(",")):
        spec = spec_for(n, args.seed)
        root, stats = estate_dir(spec)
        row: dict[str, Any] = {"stats": stats}
        rows.append(row)
        timeout = args.probe_timeout if stop else args.timeout
        print(
            f"[{_size_label(n)}] {stats['principals']} principals, {stats['accounts']} accounts, "
            f"{stats['resources']} resources, {stats['bytes'] / 1e6:.0f} MB",
            flush=True,
        )
        row["parse"] = run_worker("parse", root, args.timeout)
        print(f"[{_size_label(n)}] parse {row['parse']}", flush=True)
        row["build"] = run_worker("build", root, timeout, args.sample_memory)
        brief = {k: v for k, v in row["build"].items() if k not in ("techniques",)}
        print(f"[{_size_label(n)}] build {json.dumps(brief)}", flush=True)
        if "error" in row["build"]:
            stop = True
    print()
    print(tables(rows))
    print()
    print(verdict(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    if not args.no_docs:
        heading = f"{HEADING}, without {args.skip}" if args.skip else HEADING
        replace_section(heading, section(rows, args.sizes, args.seed, args.note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
