"""Without a server: what a store writes of an edge reads back equal, and a fetched subgraph is rebuilt
with every node's out-edges and in-edges in their original order (so ties break as in memory)."""

from __future__ import annotations

import random
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.queries import Analysis, find_paths, privesc, who_can
from iamgraph.ingest import load_snapshot
from iamgraph.store import MemoryStore
from iamgraph.store.codec import decode_edge, expr_from_json, expr_to_store
from iamgraph.store.neo4j_rows import build_rows, label_of, rel_type
from iamgraph.store.neo4j_view import build_view, insertion_order

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return Analysis.of(load_snapshot(ROOT / "fixtures" / "demo-org"))


def _fetched(a: Analysis, shuffle: int) -> tuple[list[dict], list[dict]]:
    """The rows a load writes, as a fetch returns them (any order)."""
    rows = build_rows(a)
    nodes = [{"id": r["id"], "attrs": r["attrs"], "seq": r["seq"]} for rs in rows.nodes.values() for r in rs]
    edges = [e for es in rows.edges.values() for e in es]
    random.Random(shuffle).shuffle(edges)
    random.Random(shuffle).shuffle(nodes)
    return nodes, edges


def _orders(g: nx.MultiDiGraph) -> tuple[dict, dict]:
    out = {n: [d["edge"] for _, _, d in g.out_edges(n, data=True)] for n in g.nodes}
    inn = {n: [d["edge"] for _, _, d in g.in_edges(n, data=True)] for n in g.nodes}
    return out, inn


def test_every_edge_reads_back_equal(demo: Analysis) -> None:
    for rows in build_rows(demo).edges.values():
        for e in rows:
            original = [x for x in demo.graph.edges_between(e["s"], e["t"]) if x.technique == e["p"]["technique"]]
            assert decode_edge(e["p"], e["s"], e["t"]) in original
    for edge in demo.graph.edges():
        assert expr_from_json(expr_to_store(edge.conditions)) == edge.conditions


@pytest.mark.parametrize("shuffle", [0, 1, 2])
def test_rebuilt_graph_keeps_adjacency_order_and_answers(demo: Analysis, shuffle: int) -> None:
    nodes, edges = _fetched(demo, shuffle)
    view = build_view(nodes, edges)
    assert _orders(view.graph.graph) == _orders(demo.graph.graph)
    assert list(view.graph.graph.nodes) == list(demo.graph.graph.nodes)
    # the rebuilt graph answers as the analysis does (exposure needs trust clauses: the Neo4j suite checks it)
    assert privesc(view) == privesc(demo)
    bucket = next(n for n, d in demo.graph.graph.nodes(data=True) if d.get("kind") == "resource")
    assert who_can(view, bucket) == who_can(demo, bucket)
    users = sorted(n for n, d in demo.graph.graph.nodes(data=True) if d.get("kind") == "user")
    assert find_paths(view, users[0], users[-1], all_paths=True) == find_paths(
        demo, users[0], users[-1], all_paths=True
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 2)), min_size=1, max_size=40), st.randoms()
)
def test_insertion_order_reproduces_any_multigraph(inserts: list[tuple[int, int, int]], rnd: random.Random) -> None:
    g: nx.MultiDiGraph = nx.MultiDiGraph()
    for u, v, k in inserts:
        g.add_edge(f"n{u}", f"n{v}", key=k)
    in_rank = {(u, v, k): i for n in g.nodes for i, (u, v, k) in enumerate(g.in_edges(n, keys=True))}
    rows = [
        {"s": u, "t": v, "k": k, "p": {"out_rank": i, "in_rank": in_rank[(u, v, k)]}}
        for n in g.nodes
        for i, (u, v, k) in enumerate(g.out_edges(n, keys=True))
    ]
    rnd.shuffle(rows)
    h: nx.MultiDiGraph = nx.MultiDiGraph()
    for i in insertion_order(rows):
        h.add_edge(rows[i]["s"], rows[i]["t"], key=rows[i]["k"])
    for n in g.nodes:
        assert list(h.out_edges(n, keys=True)) == list(g.out_edges(n, keys=True))
        assert list(h.in_edges(n, keys=True)) == list(g.in_edges(n, keys=True))


def test_labels_and_types_come_from_the_enums() -> None:
    assert label_of("external_account") == "ExternalAccount"
    assert rel_type(EdgeKind.ASSUME) == "ASSUME"
    with pytest.raises(ValueError):
        label_of("User`) DETACH DELETE n //")


def test_memory_store_is_the_query_layer(demo: Analysis) -> None:
    store = MemoryStore("demo")
    report = store.load(demo)
    assert report.relationships == demo.graph.graph.number_of_edges()
    assert store.privesc() == privesc(demo)
