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
