"""A server's start-up work (``ready_for_queries``): what it leaves on the graph, and what it must not do."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from iamgraph.graph.queries import Analysis, who_can
from iamgraph.graph.queries.levels import SourceTable
from iamgraph.graph.queries.reach import ReverseSets
from iamgraph.ingest import load_snapshot
from iamgraph.store.cache import ready_for_queries

ROOT = Path(__file__).resolve().parents[3]


def test_start_up_makes_the_walks_tables_without_counting_the_frozen_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """``gc.get_freeze_count`` walks every frozen object (2.8 s in a server holding a 50,000-principal
    graph, which is frozen before start-up): start-up never asks for it. It leaves who-can's source table
    and the reverse sets on the graph, and the answers are those of a graph without them."""
    analysis = Analysis.of(load_snapshot(ROOT / "fixtures" / "demo-org"))
    bucket = next(n for n in analysis.graph.graph.nodes if n.startswith("arn:aws:s3:::"))
    before = who_can(analysis, bucket)
    analysis.graph.query_memo.clear()

    def counted() -> int:
        raise AssertionError("gc.get_freeze_count called during start-up")

    monkeypatch.setattr(gc, "get_freeze_count", counted)
    try:
        ready_for_queries(analysis)
    finally:
        monkeypatch.undo()
        gc.unfreeze()
    kept = list(analysis.graph.query_memo.values())
    assert any(isinstance(v, SourceTable) for v in kept)
    assert any(isinstance(v, ReverseSets) for v in kept)
    assert who_can(analysis, bucket) == before


def test_a_graph_loaded_and_frozen_is_not_counted_on_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading a cached graph with ``freeze=True`` freezes it inside ``collector_paused``, whose way out used
    to count every frozen object (``gc.get_freeze_count``): the freeze is remembered instead."""
    from iamgraph import _gc
    from iamgraph.store.cache import load_analysis

    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_gc, "_frozen", False)
    single = ROOT / "fixtures" / "demo-org"
    built = load_analysis(single)  # builds and writes the cache entry

    def counted() -> int:
        raise AssertionError("gc.get_freeze_count called after a freeze iamgraph made")

    count = gc.get_freeze_count
    monkeypatch.setattr(gc, "get_freeze_count", counted)
    try:
        frozen = load_analysis(single, freeze=True)  # from the cache (a count there would rebuild, and count)
        with _gc.collector_paused():  # e.g. a second snapshot loaded by a server
            pass
    finally:
        monkeypatch.setattr(gc, "get_freeze_count", count)
        gc.unfreeze()
    assert frozen.graph.edge_counts() == built.graph.edge_counts()
