"""Loading is idempotent, and reloading an account removes its stale nodes and edges only."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from iamgraph.graph.queries import Analysis
from iamgraph.ingest import load_snapshot
from iamgraph.store.neo4j_store import Neo4jStore

from .conftest import PASSWORD, ROOT

ACCOUNT = "381492650173"
REMOVED = f"arn:aws:iam::{ACCOUNT}:user/legacy-admin"


@pytest.fixture(scope="module")
def store(neo4j_uri: str) -> Iterator[Neo4jStore]:
    s = Neo4jStore(neo4j_uri, user="neo4j", password=PASSWORD, snapshot="reload")
    yield s
    s.close()


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    """demo-org without the user legacy-admin in one account."""
    root = tmp_path_factory.mktemp("changed") / "demo-org"
    shutil.copytree(ROOT / "fixtures" / "demo-org", root)
    details = root / "accounts" / ACCOUNT / "authorization-details.json"
    doc = json.loads(details.read_text())
    doc["UserDetailList"] = [u for u in doc["UserDetailList"] if u["UserName"] != "legacy-admin"]
    details.write_text(json.dumps(doc))
    report = root / "accounts" / ACCOUNT / "credential-report.csv"
    if report.exists():
        report.write_text("".join(line for line in report.read_text().splitlines(True) if "legacy-admin" not in line))
    return Analysis.of(load_snapshot(root))


def _by_account(store: Neo4jStore, snapshot: str) -> dict[str, tuple[int, int, list[int]]]:
    """account -> (nodes, relationships, distinct load tags of its nodes)."""
    nodes = store.read(
        "MATCH (n:IamNode) WHERE n.snapshot = $s "
        "RETURN n.account AS a, count(n) AS c, collect(DISTINCT n.load_tag) AS t",
        s=snapshot,
    )
    rels = store.read("MATCH (:IamNode {snapshot: $s})-[r]->() RETURN r.account AS a, count(r) AS c", s=snapshot)
    rel_count = {r["a"]: r["c"] for r in rels}
    return {r["a"]: (r["c"], rel_count.get(r["a"], 0), sorted(r["t"])) for r in nodes}


def _rids(store: Neo4jStore, snapshot: str) -> set[str]:
    return {r["rid"] for r in store.read("MATCH (:IamNode {snapshot: $s})-[r]->() RETURN r.rid AS rid", s=snapshot)}


def test_loading_twice_leaves_the_same_counts(store: Neo4jStore, analyses: dict[str, Analysis]) -> None:
    a = analyses["demo-org"]
    first = store.load(a, snapshot="reload-twice")
    counts = store.counts("reload-twice")
    assert counts == {"nodes": a.graph.graph.number_of_nodes(), "relationships": a.graph.graph.number_of_edges()}
    second = store.load(a, snapshot="reload-twice")
    assert store.counts("reload-twice") == counts
    assert (second.removed_nodes, second.removed_relationships) == (0, 0)
    assert second.load_tag > first.load_tag
    tags = store.read("MATCH (n:IamNode {snapshot: 'reload-twice'}) RETURN DISTINCT n.load_tag AS t")
    assert [r["t"] for r in tags] == [second.load_tag]


def test_reloading_a_changed_account_removes_its_stale_data_only(
    store: Neo4jStore, analyses: dict[str, Analysis], changed: Analysis
) -> None:
    store.load(analyses["demo-org"], snapshot="reload-account")
    before = _by_account(store, "reload-account")
    assert store.read("MATCH (n:IamNode {snapshot: 'reload-account', id: $id}) RETURN n.id AS id", id=REMOVED)

    report = store.load(changed, snapshot="reload-account", accounts={ACCOUNT})
    after = _by_account(store, "reload-account")

    assert not store.read("MATCH (n:IamNode {snapshot: 'reload-account', id: $id}) RETURN n.id AS id", id=REMOVED)
    assert report.removed_nodes >= 1 and report.removed_relationships >= 1
    for account, (nodes, _, tags) in before.items():
        if account not in (ACCOUNT, ""):
            assert after[account][0] == nodes, account  # other accounts' nodes: same count, same tags
            assert after[account][2] == tags, account
    # the partial reload ends where a fresh load of the changed snapshot starts
    store.load(changed, snapshot="reload-fresh")
    assert _rids(store, "reload-account") == _rids(store, "reload-fresh")
    assert store.counts("reload-account") == store.counts("reload-fresh")


def test_reloading_the_whole_snapshot_removes_what_is_gone(
    store: Neo4jStore, analyses: dict[str, Analysis], changed: Analysis
) -> None:
    store.load(analyses["demo-org"], snapshot="reload-whole")
    report = store.load(changed, snapshot="reload-whole")
    assert report.removed_nodes >= 1
    assert store.counts("reload-whole") == {
        "nodes": changed.graph.graph.number_of_nodes(),
        "relationships": changed.graph.graph.number_of_edges(),
    }
