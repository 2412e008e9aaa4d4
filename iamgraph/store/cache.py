"""On-disk cache of analysed snapshots, keyed by the content hash of every input file.

Repeated commands on the same snapshot start fast; any change to any input file, to iamgraph's own code
(the source of the package, not only its version number) or to its action catalogue gives another key,
so a stale graph is never served.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path

from iamgraph import __version__
from iamgraph._gc import collector_held, collector_paused
from iamgraph._gc import freeze as freeze_objects
from iamgraph.graph.ondemand import check_mode, resolve_mode
from iamgraph.graph.queries.base import Analysis
from iamgraph.ingest import load_snapshot

__all__ = ["cache_dir", "load_analysis", "resource_access_mode", "snapshot_hash"]

_FORMAT = 2  # 2: the model's dataclasses pickle through iamgraph.model._fast.fast_pickle
KEEP = 8  # cached graphs kept: the most recently used ones (each code or input change makes a new one)


def cache_dir() -> Path:
    base = os.environ.get("IAMGRAPH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "iamgraph"
    )
    return Path(base)


@cache
def code_hash() -> str:
    """sha256 over iamgraph's Python sources: a graph built by other code is another graph."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def snapshot_hash(path: Path) -> str:
    """sha256 over relative names and contents of every file of the snapshot that the loader reads (sorted)."""
    from iamgraph.catalog import get_catalog

    h = hashlib.sha256(f"{_FORMAT}:{__version__}:{code_hash()}:{get_catalog().data_version}".encode())
    # hidden files and folders are not read by the loader (editor swap files, a generator's notes), so
    # they must not change the key either
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path)))
    )
    for f in files:
        rel = f.name if path.is_file() else f.relative_to(path).as_posix()
        h.update(rel.encode() + b"\0")
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def ready_for_queries(analysis: Analysis) -> None:
    """Before serving queries: build the graph's edge indexes now rather than in the first request, with
    the GC paused (millions of allocations, no garbage), then move what is alive out of the cyclic GC's
    sight (a full collection over a 5k-principal graph stalled a request for a minute). The collection
    before it is quick when the graph was loaded with ``freeze``.

    Also makes what privesc and exposure share at their default depth (every node's act-as reach, what
    each holder holds, kept on the graph): the first such query would otherwise spend most of its time
    budget on it (about 8 s at 5k principals). And who can act as each node within 7 hops: who-can and
    can at their default depth (8, the access hop included) and path up to 7 hops walk only through the
    nodes that can get to their target, and who-can counts its total from them. And every node's act-as
    edges grouped by source and by target, which those walks read (under a second at 5k principals), and
    as flat arrays, which who-can's walk reads a level at a time (about 3 s at 50k principals).
    And the JSON of every act-as edge as a hop, which nearly every answer's paths are made of (246,100 hops
    in about 8 s at 5k principals): a first who-can page spent most of its time making them, and so did each
    worker a server forks, which starts with the caches of the process it was forked from."""
    from iamgraph.graph.queries.base import ACT_AS, HopMemo
    from iamgraph.graph.queries.exposure import exposure
    from iamgraph.graph.queries.levels import source_table
    from iamgraph.graph.queries.privesc import shared_search
    from iamgraph.graph.queries.reach import reverse_sets
    from iamgraph.graph.queries.whatif import WhatIf

    with collector_held():  # no settling on the way out (``collector_paused``): everything is frozen below
        analysis.graph.index_edges()
        exposure(analysis, limit=0)
        shared_search(analysis, WhatIf(), 8, None).walk(True, None)  # privesc's other pass
        reverse_sets(analysis.graph, 7)  # also groups every node's act-as in-edges by source
        source_table(analysis.graph)  # who-can's walk, a level at a time
        g = analysis.graph
        hop = HopMemo(g)
        for node in g.numbers():  # and its act-as out-edges by target, for path's forward walk
            if out := g.out_edges_of(node, ACT_AS):
                g.out_targets_of(node, ACT_AS)
                for e in out:
                    hop(e, e.conditions)
    gc.collect()
    freeze_objects()


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def resource_access_mode(given: str | None = None) -> str:
    """``given``, else IAMGRAPH_RESOURCE_ACCESS, else ``auto`` (see ``build_graph``); checked."""
    return check_mode(
        given or os.environ.get("IAMGRAPH_RESOURCE_ACCESS") or "auto", "--resource-access (IAMGRAPH_RESOURCE_ACCESS)"
    )


def load_analysis(
    path: Path, *, use_cache: bool = True, freeze: bool = False, resource_access: str | None = None
) -> Analysis:
    """Load and analyse a snapshot, through the cache when allowed.

    ``resource_access``: ``auto``, ``eager`` or ``on-demand`` (``build_graph``); None:
    ``resource_access_mode()``. The two graphs of a snapshot are cached apart; ``auto`` takes either when
    one is cached (the eager one first: it is complete), else builds the one ``auto`` stands for.

    ``freeze``: a graph from the cache is moved out of the cyclic GC's sight at once (``gc.freeze``), for
    a process that keeps it until it ends (a server's start-up snapshots, a benchmark): a full collection
    over it takes minutes at 5k principals. Its reference cycles are then never collected, so a process
    that drops graphs must not ask for it."""
    path = Path(path)
    mode = resource_access_mode(resource_access)
    if not use_cache:
        return Analysis.of(load_snapshot(path), resource_access=mode)
    key = snapshot_hash(path)

    def entry(built: str) -> Path:
        return cache_dir() / f"{key}{'' if built == 'eager' else '-' + built}.pickle"

    for built in ("eager", "on-demand") if mode == "auto" else (mode,):
        cached = _cached(entry(built), freeze)
        if cached is not None:
            return cached
    snapshot = load_snapshot(path)
    built = resolve_mode(mode, snapshot)
    target = entry(built)
    analysis = Analysis.of(snapshot, resource_access=built)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # the collector held: the pickler's memo makes millions of small objects, whose collections walked the
        # whole graph again and again (a 5k graph written in 2.6-3.0 s instead of 5.7-6.0 s)
        with tempfile.NamedTemporaryFile("wb", dir=target.parent, delete=False) as tmp, collector_held():
            pickle.dump(analysis, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp.name, target)
        _prune(target.parent)
    except OSError:
        pass  # caching is an optimisation; a read-only home must not break queries
    return analysis


def _cached(target: Path, freeze: bool) -> Analysis | None:
    if not target.exists():
        return None
    try:
        with target.open("rb") as fh, collector_paused():
            cached = pickle.load(fh)
            if freeze:  # unpickling makes no garbage: nothing is lost by freezing now
                freeze_objects()
        if isinstance(cached, Analysis):
            os.utime(target)  # most recently used: kept by the pruning below
            return cached
    except Exception:  # a corrupt or incompatible cache entry is rebuilt, never trusted
        target.unlink(missing_ok=True)
    return None


def _prune(folder: Path, keep: int = KEEP) -> None:
    """Delete all but the ``keep`` most recently used graphs (the cache would otherwise only grow)."""
    entries = sorted(folder.glob("*.pickle"), key=lambda f: f.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)
