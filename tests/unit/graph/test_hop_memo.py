"""The graph keeps the JSON of access hops for later queries, but only the most recent ones (``Recent``):
there are millions of access edges in a large estate, and keeping every hop a query touched grew a server
by gigabytes. Answers must not depend on what is kept."""

from pathlib import Path

import orjson
import pytest

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import Recent
from iamgraph.graph.queries import Analysis, find_paths, neighbourhood, who_can
from iamgraph.ingest import load_snapshot

ROOT = Path(__file__).resolve().parents[3]


def test_recent_keeps_the_newest_entries() -> None:
    memo = Recent(3)
    for i in range(6):
        memo[i] = str(i)
    assert list(memo) == [0, 1, 2, 3, 4, 5]  # up to twice the limit
    memo[6] = "6"
    assert list(memo) == [4, 5, 6]  # then the older ones go, the newest ``limit`` stay
    assert memo.get(5) == "5" and memo.get(1) is None
    for i in range(7, 100):
        memo[i] = str(i)
        assert len(memo) <= 6
    assert 99 in memo


def _answers(a: Analysis) -> bytes:
    g = a.graph
    resources = sorted(n for n, k in g.graph.nodes(data="kind") if k == "resource")
    principals = sorted(n for n, k in g.graph.nodes(data="kind") if k in ("user", "role"))
    out = []
    for r in resources:
        out.append(who_can(a, r))
        out.append(neighbourhood(a, r, depth=2))
        out.extend(find_paths(a, p, r, max_depth=6) for p in principals[:5])
        assert len(g.access_hops) <= 2 * g.access_hops.limit
        assert len(g.access_parts) <= 2 * g.access_parts.limit
    return orjson.dumps(out, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS)


@pytest.mark.parametrize("fixture", ["demo-org", "small/single-account"])
def test_answers_do_not_depend_on_how_many_access_hops_are_kept(fixture: str) -> None:
    snapshot = load_snapshot(ROOT / "fixtures" / fixture)
    kept_all = Analysis.of(snapshot)
    kept_all.graph.access_hops.limit = kept_all.graph.access_parts.limit = 10**9
    expected = _answers(kept_all)
    assert len(kept_all.graph.access_hops) > 8  # the fixture's answers do have access hops to keep

    few = Analysis.of(snapshot)
    few.graph.access_hops.limit = few.graph.access_parts.limit = 2
    assert _answers(few) == expected
    assert _answers(few) == expected  # again, from what the first pass left
    assert all(e.kind is EdgeKind.ACCESS for e, _ in few.graph.access_hops.values())
    assert not any(e.kind is EdgeKind.ACCESS for e, _ in few.graph.hop_cache.values())


def test_touch_edges_reads_each_edge_once() -> None:
    # a forked server worker reads every edge before it serves (api/prefork.py): each edge is in exactly one
    # list of the by-kind in-edge index, so the count is the graph's
    analysis = Analysis.of(load_snapshot(ROOT / "fixtures" / "demo-org"))
    g = analysis.graph
    assert g.touch_edges() == g.graph.number_of_edges() > 0
    kinds = frozenset(EdgeKind)
    assert sum(len(g.in_edges_of(n, kinds)) for n in g.graph.nodes) == g.graph.number_of_edges()
