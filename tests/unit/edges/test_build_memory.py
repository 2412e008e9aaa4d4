"""What a build keeps in memory, and that keeping less changes nothing: non-access edges share one empty,
read-only ``access`` mapping and equal action tuples, and the memoised decisions of one technique are let
go before the next, with the same graph, edge for edge, as when they are all kept."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import iamgraph.graph.build as build
from iamgraph.edges.base import NO_ACCESS, DerivedEdge, EdgeKind, new_edge
from iamgraph.edges.techniques import _edges
from iamgraph.edges.techniques._privesc import index as privesc_index
from iamgraph.export import to_json
from iamgraph.graph.build import build_graph
from iamgraph.graph.estate import Estate
from iamgraph.ingest import load_snapshot

from .estate_builder import generated

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "fixtures" / "demo-org"


def test_non_access_edges_share_one_read_only_empty_access() -> None:
    e = new_edge(source="a", target="b", kind=EdgeKind.ASSUME, technique="sts:AssumeRole")
    f = DerivedEdge(source="a", target="b", kind=EdgeKind.ASSUME, technique="sts:AssumeRole")
    assert e.access is NO_ACCESS and f.access is NO_ACCESS and e == f and hash(e) == hash(f)
    assert e.access == {} and not e.access and "access" not in e.to_json()
    with pytest.raises(TypeError):
        e.access["Read"] = ("s3:GetObject",)  # type: ignore[index]
    with pytest.raises(TypeError):
        NO_ACCESS.update({"Read": ()})  # type: ignore[attr-defined]
    back = pickle.loads(pickle.dumps([e, f]))
    assert back == [e, f] and back[0].access is NO_ACCESS and back[1].access is NO_ACCESS


def test_built_edges_share_their_empty_access_and_equal_action_tuples() -> None:
    g = build_graph(load_snapshot(DEMO), resource_access="eager")
    others = [e for e in g.edges() if e.kind is not EdgeKind.ACCESS]
    assert others and all(e.access is NO_ACCESS for e in others)
    by_actions: dict[tuple[str, ...], tuple[str, ...]] = {}
    for e in others:
        if e.actions:
            assert by_actions.setdefault(e.actions, e.actions) is e.actions, (e.technique, e.actions)
    assert len(by_actions) < len([e for e in others if e.actions])  # some tuples are shared at all
    assert all(e.access for e in g.edges(EdgeKind.ACCESS))
    loaded = pickle.loads(pickle.dumps(g))
    assert all(e.access is NO_ACCESS for e in loaded.edges() if e.kind is not EdgeKind.ACCESS)


def _built(path: Path, monkeypatch: pytest.MonkeyPatch, *, forget: bool) -> tuple[str, list[Estate]]:
    estates: list[Estate] = []

    class Kept(Estate):
        def __init__(self, snapshot: object) -> None:
            super().__init__(snapshot)  # type: ignore[arg-type]
            estates.append(self)

    with monkeypatch.context() as m:
        m.setattr(build, "Estate", Kept)
        if not forget:
            m.setattr(build, "_forget_requests", lambda estate: None)
        _edges.forget_proofs()
        g = build_graph(load_snapshot(path), resource_access="eager")
    return to_json(g), estates


@pytest.mark.parametrize("seed", [None, 3, 11])
def test_letting_memos_go_between_techniques_changes_no_edge(
    seed: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = DEMO if seed is None else generated(tmp_path, seed, principals=80, accounts=3, resources=120)
    kept, _ = _built(path, monkeypatch, forget=False)
    forgot, estates = _built(path, monkeypatch, forget=True)
    assert forgot == kept
    (estate,) = estates
    idx = privesc_index(estate)
    # the memos were let go (the last technique's questions went with them): the test compares two builds
    assert not idx._targets and not idx._memo and not estate.shared._alike
    assert not _edges._PROOFS and not _edges._DECIDING
