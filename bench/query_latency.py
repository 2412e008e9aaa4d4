"""Query latency (issue 4): who-can and privesc on generated estates, once the graph is loaded.

    python bench/query_latency.py [--sizes 1k,5k,50k] [--seed 1] [--queries 100] [--timeout 1800] [--no-docs]

Each size is the estate of bench/build_scale.py (N principals, N / 250 accounts, 4 N resources, same
seed and cache). A fresh process per size loads it through the CLI's on-disk graph cache
(``iamgraph.store.cache.load_analysis``: ``load_snapshot`` + ``build_graph`` the first time, the pickled
graph afterwards; timed, and whether it came from the cache is reported: the latency target is for a
loaded graph), then runs, over the same in-memory graph:

* ``who-can``: ``--queries`` random resources, each asked once without an action (every action) and
  once with one action drawn from the actions its inbound access edges carry;
* ``can``: a random (principal, resource, action) drawn from the who-can answers;
* ``privesc``: the whole-estate report, ``--privesc-runs`` times (it walks every principal).

Latencies are wall times of the query-layer call (what the CLI and API add is rendering), with the young
garbage collection its answer leaves pending (who-can holds the collector while it makes its answer; the
collection of those objects is timed with it, not left to the next query), reported as
p50 / p90 / p99 / max in milliseconds, with the graph size and the process's peak RSS. A size that does
not load within ``--timeout`` is reported as such and the larger ones are skipped. Results go to
docs/benchmarks.md, section "Query latency (issue 4)".
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchdocs import cpu_model, replace_section  # noqa: E402
from build_scale import SKIP_ENV, estate_dir, parse_size, skip_techniques, spec_for  # noqa: E402

HEADING = "Query latency (issue 4)"
TARGET_P50_MS = 50.0
PAGE = 100  # principals per who-can page (the API default)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _summary(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {}
    return {
        "n": len(ms),
        "p50": statistics.median(ms),
        "p90": _pct(ms, 0.90),
        "p99": _pct(ms, 0.99),
        "max": max(ms),
    }


def _settle() -> None:
    gc.collect(1)
    gc.freeze()


def worker(root: Path, queries: int, privesc_runs: int, seed: int) -> dict[str, Any]:
    """Runs in its own process: load, build, then time the queries."""
    from iamgraph.edges.base import EdgeKind
    from iamgraph.graph.model import NodeKind
    from iamgraph.graph.queries import can, privesc, who_can
    from iamgraph.store.cache import cache_dir, load_analysis, ready_for_queries, resource_access_mode, snapshot_hash

    skipped = skip_techniques()
    mode = resource_access_mode()  # IAMGRAPH_RESOURCE_ACCESS, set by --resource-access
    suffix = "" if mode == "eager" else f"-{mode}"
    cached = not skipped and (cache_dir() / f"{snapshot_hash(root)}{suffix}.pickle").exists()
    t0 = time.perf_counter()
    if skipped:  # a partial graph: built here, never written to the on-disk cache (its key is the snapshot's)
        from iamgraph.graph.queries import Analysis
        from iamgraph.ingest import load_snapshot

        analysis = Analysis.of(load_snapshot(root))
        gc.freeze()
    else:
        analysis = load_analysis(root, freeze=True)  # the CLI's on-disk graph cache: built once, shared with api_load
    g = analysis.graph
    out: dict[str, Any] = {
        "resource_access": mode,
        "skipped": skipped,
        "load_build_s": time.perf_counter() - t0,
        "from_cache": cached,
        "nodes": g.graph.number_of_nodes(),
        "edges": g.graph.number_of_edges(),
    }
    # as `iamgraph serve` does: edge indexes built and the graph out of the cyclic GC's sight before the first
    # query, and what each query leaves cached frozen after it (outside the timings)
    t0 = time.perf_counter()
    ready_for_queries(analysis)
    out["index_s"] = time.perf_counter() - t0
    ACCESS = frozenset({EdgeKind.ACCESS})
    rng = random.Random(seed)
    resources = sorted(n for n, d in g.graph.nodes(data=True) if d.get("kind") == NodeKind.RESOURCE)
    sample = rng.sample(resources, min(queries, len(resources)))
    plain: list[float] = []
    page: list[float] = []
    with_action: list[float] = []
    can_ms: list[float] = []
    made: list[float] = []  # on demand: making the resource's access edges, before its first query
    answers = 0
    for arn in sample:
        if g.on_demand is not None:
            t = time.perf_counter()
            g.in_edges_of(arn, ACCESS)
            made.append((time.perf_counter() - t) * 1000)
            _settle()
        t = time.perf_counter()
        res = who_can(analysis, arn)
        gc.collect(0)  # the young collection a large answer leaves pending (who-can holds the collector meanwhile)
        plain.append((time.perf_counter() - t) * 1000)
        answers += len(res["principals"])
        _settle()
        t = time.perf_counter()
        who_can(analysis, arn, limit=PAGE)  # the API's default page: the same walk, 100 principals built
        gc.collect(0)
        page.append((time.perf_counter() - t) * 1000)
        _settle()
        actions = sorted({a for e in g.in_edges_of(arn, ACCESS) for a in e.actions})
        if actions:
            action = rng.choice(actions)
            t = time.perf_counter()
            res = who_can(analysis, arn, action=action)
            gc.collect(0)
            with_action.append((time.perf_counter() - t) * 1000)
            _settle()
            arns = [p["arn"] for p in res["principals"] if p["arn"].startswith("arn:") and ":iam::" in p["arn"]]
            if arns:
                who = rng.choice(arns)
                t = time.perf_counter()
                can(analysis, who, arn, action)
                can_ms.append((time.perf_counter() - t) * 1000)
                _settle()
    privesc_s: list[float] = []
    escalations = 0
    for _ in range(privesc_runs):
        t = time.perf_counter()
        res = privesc(analysis)
        privesc_s.append(time.perf_counter() - t)
        escalations = len(res["escalations"])
    out.update(
        who_can=_summary(plain),
        who_can_page=_summary(page),
        who_can_action=_summary(with_action),
        can=_summary(can_ms),
        privesc_s=_summary(privesc_s),
        mean_principals_per_answer=answers / max(1, len(sample)),
        escalations=escalations,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    )
    if g.on_demand is not None:
        out["resources_made_on_demand"] = getattr(g.on_demand, "computed", None)
        out["made"] = _summary(made)
        out["first_page"] = _summary([m + p for m, p in zip(made, page, strict=True)])
    return out


def run(size: int, seed: int, queries: int, privesc_runs: int, timeout: float) -> dict[str, Any]:
    root, _ = estate_dir(spec_for(size, seed))
    row: dict[str, Any] = {"principals": size, "accounts": spec_for(size, seed).accounts, "resources": 4 * size}
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        str(root),
        "--queries",
        str(queries),
        "--privesc-runs",
        str(privesc_runs),
        "--seed",
        str(seed),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        row["error"] = f"did not load and build within {timeout:.0f} s"
        return row
    if proc.returncode != 0:
        row["error"] = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return row
    row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return row


def _ms(s: dict[str, float], key: str) -> str:
    return f"{s[key]:.1f}" if s else "–"


def section(rows: list[dict[str, Any]], argv: list[str], load: str) -> str:
    lines = [
        f"`python bench/query_latency.py {' '.join(argv)}` — {time.strftime('%Y-%m-%d')}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores ({cpu_model()}), load average at start {load}.",
        "",
        "Estates of bench/build_scale.py (N principals, N / 250 accounts, 4 N resources). Each size runs in a "
        "fresh process: load + build, or load of the cached graph when marked (timed, not part of the latencies), "
        "then the edge indexes are built and the graph frozen out of the garbage collector's sight, as "
        "`iamgraph serve` does (what each query leaves cached is frozen after it, outside the timings), "
        "then the queries on the loaded in-memory graph: who-can on random resources without and with an "
        f"action, and its first page of {PAGE} (`limit`, the API's default), `can` on a (principal, resource, "
        "action) drawn from the answers, and the whole-estate privesc report. Milliseconds unless marked.",
        "",
        "| principals | accounts | load+build s | index s | nodes | edges | who-can p50 / p90 / p99 / max | "
        f"who-can `limit` {PAGE} p50 / p99 | "
        "who-can --action p50 / p99 | can p50 / p99 | privesc s (median) | principals per answer | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|---:|",
    ]
    verdicts = []
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['principals']:,} | {r['accounts']} | {r['error']} | | | | | | | | | | |")
            continue
        w, wa, c, p = r["who_can"], r["who_can_action"], r["can"], r["privesc_s"]
        wp = r.get("who_can_page")
        without = f" (without {', '.join(r['skipped'])})" if r.get("skipped") else ""
        if r.get("resource_access") == "on-demand":
            without += " (resource access on demand)"
        lines.append(
            f"| {r['principals']:,}{without} | {r['accounts']} | {r['load_build_s']:.1f}"
            f"{' (cache)' if r.get('from_cache') else ''} | {r.get('index_s', 0):.1f} | "
            f"{r['nodes']:,} | {r['edges']:,} | "
            f"{_ms(w, 'p50')} / {_ms(w, 'p90')} / {_ms(w, 'p99')} / {_ms(w, 'max')} | "
            f"{(_ms(wp, 'p50') + ' / ' + _ms(wp, 'p99')) if wp else '—'} | "
            f"{_ms(wa, 'p50')} / {_ms(wa, 'p99')} | {_ms(c, 'p50')} / {_ms(c, 'p99')} | "
            f"{p['p50']:.2f} | {r['mean_principals_per_answer']:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    big = [r for r in rows if r["principals"] >= 50_000]
    if big and "resource-access" in big[-1].get("skipped", []):
        verdicts.append(
            f"Target (who-can p50 < {TARGET_P50_MS:.0f} ms at 50,000 principals): NOT measured — resource access "
            "was left out of this run's graph, so who-can has no holder to start from."
        )
    elif not big or "error" in big[-1]:
        verdicts.append(
            f"Target (who-can p50 < {TARGET_P50_MS:.0f} ms at 50,000 principals): NOT measured — the 50k graph "
            "does not load and build on this machine (see the graph build scale section)."
        )
    else:
        p50 = big[-1]["who_can"]["p50"]
        ok = "met" if p50 < TARGET_P50_MS else "NOT met"
        verdicts.append(f"Target (who-can p50 < {TARGET_P50_MS:.0f} ms at 50,000 principals): {ok} ({p50:.1f} ms).")
    for r in rows:
        if r.get("resource_access") == "on-demand" and r.get("made"):
            m, fp = r["made"], r["first_page"]
            verdicts.append(
                f"Resource access on demand ({r['principals']:,} principals): the graph holds no access edges of "
                "the estate's principals; before the first query about each resource its access edges are made "
                f"(timed apart: p50 / p90 / p99 / max {_ms(m, 'p50')} / {_ms(m, 'p90')} / {_ms(m, 'p99')} / "
                f"{_ms(m, 'max')} ms), so the who-can columns are those of a resource asked about before. The "
                f"first page of a resource never asked about (making + page): p50 / p90 / p99 {_ms(fp, 'p50')} / "
                f"{_ms(fp, 'p90')} / {_ms(fp, 'p99')} ms."
            )
    return "\n".join([*lines, "", *verdicts])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1k,5k,50k")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--privesc-runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--no-docs", action="store_true")
    ap.add_argument(
        "--skip", default="", help="techniques left out of the graph, e.g. resource-access (built, never cached)"
    )
    ap.add_argument(
        "--resource-access",
        choices=("eager", "on-demand"),
        default="eager",
        help="on-demand: the graph without the principals' access edges; who-can makes those onto its resource "
        "the first time it is asked (the first who-can of each resource below pays for it)",
    )
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.queries, args.privesc_runs, args.seed)))
        return 0
    if args.skip:  # read by each worker process
        os.environ[SKIP_ENV] = args.skip
    os.environ["IAMGRAPH_RESOURCE_ACCESS"] = args.resource_access  # read by each worker's load_analysis
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    rows: list[dict[str, Any]] = []
    for size in (parse_size(s) for s in args.sizes.split(",")):
        row = run(size, args.seed, args.queries, args.privesc_runs, args.timeout)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if "error" in row:
            for rest in (parse_size(s) for s in args.sizes.split(",")):
                if rest > size:
                    rows.append(
                        {
                            "principals": rest,
                            "accounts": spec_for(rest, args.seed).accounts,
                            "error": f"skipped: {size:,} did not complete",
                        }
                    )
            break
    text = section(rows, sys.argv[1:] if argv is None else argv, load)
    print(text)
    if not args.no_docs:
        replace_section(HEADING, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
