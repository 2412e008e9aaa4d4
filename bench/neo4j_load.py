"""Neo4j store benchmark (issue 7): load rate and query latency beside the memory store.

    python bench/neo4j_load.py --uri bolt://127.0.0.1:7697 --password iamgraph-test \\
        --principals 5000 --accounts 20 --replicate 1,10 [--write-docs]

Generates one estate with bench/generate.py and builds its graph once; the larger estates are that graph
replicated under fresh account ids (``--replicate 10`` on a 5k-principal estate stands for 50k
principals: the same structure, ten times over), because building a 50k-principal graph from its
policies is a benchmark of its own (bench/build_scale.py). Each size is loaded into an empty snapshot
(CREATE path), then loaded again (MERGE + stale cleanup path), and the same queries are timed on both
stores: who-can on sampled resources, shortest path on sampled pairs, privesc and exposure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from iamgraph.edges.base import DerivedEdge  # noqa: E402
from iamgraph.graph.model import AccessGraph, NodeKind  # noqa: E402
from iamgraph.graph.queries import Analysis  # noqa: E402
from iamgraph.ingest import load_snapshot  # noqa: E402
from iamgraph.store import GraphStore, MemoryStore, load_analysis  # noqa: E402
from iamgraph.store.neo4j_store import Neo4jStore  # noqa: E402

SECTION = "## Neo4j store (issue 7)"


def replicate(a: Analysis, times: int) -> Analysis | AccessGraph:
    """The graph ``times`` over: copy k renames every account of the snapshot (outside nodes are shared)."""
    if times == 1:
        return a
    src = a.graph.graph
    accounts = sorted({str(d["account"]) for _, d in src.nodes(data=True) if d.get("kind") == NodeKind.ACCOUNT})
    out = AccessGraph()
    for k in range(times):

        def rename(text: str, k: int = k) -> str:
            if k == 0:
                return text
            for acct in accounts:
                if acct in text:
                    text = text.replace(acct, f"{(int(acct) + k * 7919) % 10**12:012d}")
            return text

        for node, data in src.nodes(data=True):
            attrs = {key: (rename(v) if isinstance(v, str) else v) for key, v in data.items()}
            out.graph.add_node(rename(str(node)), **attrs)
        for u, v, key, data in src.edges(keys=True, data=True):
            e: DerivedEdge = data["edge"]
            out.graph.add_edge(
                rename(u), rename(v), key=key, edge=replace(e, source=rename(e.source), target=rename(e.target))
            )
    return out


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def latencies(store: GraphStore, resources: list[str], pairs: list[tuple[str, str]], heavy: bool) -> dict[str, float]:
    out = {
        "who_can_ms_median": 1000 * statistics.median(timed(lambda r=r: store.who_can(r)) for r in resources),
        "path_ms_median": 1000 * statistics.median(timed(lambda p=p: store.path(*p)) for p in pairs),
    }
    if heavy:
        out["privesc_s"] = timed(store.privesc)
        out["exposure_s"] = timed(store.exposure)
    return {k: round(v, 3) for k, v in out.items()}


def samples(g: AccessGraph, n: int) -> tuple[list[str], list[tuple[str, str]]]:
    nodes = g.graph.nodes(data=True)
    res = sorted(str(x) for x, d in nodes if d.get("kind") == NodeKind.RESOURCE)
    users = sorted(str(x) for x, d in nodes if d.get("kind") == NodeKind.USER)
    roles = sorted(str(x) for x, d in nodes if d.get("kind") == NodeKind.ROLE)
    step_r, step_u, step_o = max(1, len(res) // n), max(1, len(users) // n), max(1, len(roles) // n)
    return res[::step_r][:n], list(zip(users[::step_u][:n], roles[::step_o][:n], strict=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7697"))
    ap.add_argument("--user", default=os.environ.get("NEO4J_USER", "neo4j"))
    ap.add_argument("--password", default=os.environ.get("NEO4J_PASSWORD", "iamgraph-test"))
    ap.add_argument("--principals", type=int, default=5000)
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--resources", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--replicate", default="1,10", help="comma-separated copies of the graph (1 = as generated)")
    ap.add_argument("--samples", type=int, default=10, help="who-can resources and path pairs per size")
    ap.add_argument("--no-heavy", action="store_true", help="skip privesc and exposure timings")
    ap.add_argument("--no-cache", action="store_true", help="build the graph even when the analysis cache has it")
    ap.add_argument("--json", type=Path, help="write the results as JSON here too")
    ap.add_argument("--write-docs", action="store_true", help="replace the section in docs/benchmarks.md")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        estate = Path(tmp) / "estate"
        gen = [sys.executable, str(ROOT / "bench" / "generate.py"), "--principals", str(args.principals)]
        gen += ["--accounts", str(args.accounts), "--seed", str(args.seed), "--out", str(estate)]
        if args.resources:
            gen += ["--resources", str(args.resources)]
        subprocess.run(gen, check=True, capture_output=True)
        t0 = time.perf_counter()
        base = Analysis.of(load_snapshot(estate)) if args.no_cache else load_analysis(estate)
        build_s = time.perf_counter() - t0
    print(
        f"built {args.principals} principals in {build_s:.1f} s: {base.graph.graph.number_of_edges()} edges", flush=True
    )

    neo = Neo4jStore(args.uri, user=args.user, password=args.password)
    results: list[dict[str, Any]] = []
    for times in (int(x) for x in args.replicate.split(",")):
        graph = replicate(base, times)
        g = graph.graph if isinstance(graph, Analysis) else graph
        snapshot = f"bench-{args.principals * times}"
        neo.drop(snapshot)
        first = neo.load(graph, snapshot=snapshot)
        again = neo.load(graph, snapshot=snapshot)
        print(f"{snapshot}: load {first.rate:,.0f} rel/s, reload {again.rate:,.0f} rel/s", flush=True)
        memory = MemoryStore(snapshot)
        memory.load(graph)
        resources, pairs = samples(g, args.samples)
        row = {
            "principals": args.principals * times,
            "replicated": times,
            "nodes": g.graph.number_of_nodes(),
            "relationships": g.graph.number_of_edges(),
            "load": first.to_json(),
            "reload": again.to_json(),
            "memory": latencies(memory, resources, pairs, not args.no_heavy),
            "neo4j": latencies(neo, resources, pairs, not args.no_heavy),
        }
        print(json.dumps(row), flush=True)
        results.append(row)
        neo.drop(snapshot)
    neo.close()
    report = {"machine": machine(), "build_s": round(build_s, 1), "args": vars(args) | {"json": None}, "sizes": results}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report)
    print(text)
    if args.write_docs:
        write_section(ROOT / "docs" / "benchmarks.md", text)
    return 0


def machine() -> str:
    cpu = f"{platform.machine()}, {os.cpu_count()} cores"
    return f"{cpu}, Python {platform.python_version()}, Neo4j 5.26 embedded (tools/neo4j)"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        SECTION,
        "",
        f"`python bench/neo4j_load.py` — {report['machine']}; base graph analysed in {report['build_s']} s "
        "(from the analysis cache when it had it).",
        "",
        "| principals | relationships | load rel/s | reload rel/s | who-can ms (memory / neo4j) "
        "| path ms (memory / neo4j) | privesc s (memory / neo4j) | exposure s (memory / neo4j) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["sizes"]:
        m, n = r["memory"], r["neo4j"]
        label = f"{r['principals']:,}" + (f" ({r['replicated']}× replicated)" if r["replicated"] > 1 else "")
        lines.append(
            f"| {label} | {r['relationships']:,} | {r['load']['relationships_per_second']:,} | "
            f"{r['reload']['relationships_per_second']:,} | {m['who_can_ms_median']} / {n['who_can_ms_median']} | "
            f"{m['path_ms_median']} / {n['path_ms_median']} | {m.get('privesc_s', '-')} / {n.get('privesc_s', '-')} | "
            f"{m.get('exposure_s', '-')} / {n.get('exposure_s', '-')} |"
        )
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    """Replace (or append) only our section of docs/benchmarks.md."""
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    start = doc.find(SECTION)
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        end = doc.find("\n## ", start + len(SECTION))
        doc = doc[:start] + text + (doc[end + 1 :] if end >= 0 else "")
    path.write_text(doc)


if __name__ == "__main__":
    raise SystemExit(main())
