"""Names that would break string-built Cypher are stored and returned verbatim."""

from __future__ import annotations

import pytest

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.evaluation.decision import MatchedStatement
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.model.policy import Effect, PolicyKind, StatementRef
from iamgraph.store import MemoryStore
from iamgraph.store.neo4j_store import Neo4jStore

from .conftest import PASSWORD

HOSTILE = "x'y\"z`w\\}) DETACH DELETE n //"
ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/{HOSTILE}"
BUCKET = f"arn:aws:s3:::{HOSTILE}"


def _graph() -> AccessGraph:
    g = AccessGraph()
    g.add_node(f"arn:aws:iam::{ACCOUNT}:root", NodeKind.ACCOUNT, account=ACCOUNT, name=ACCOUNT)
    g.add_node(USER, NodeKind.USER, account=ACCOUNT, name=HOSTILE, tags={HOSTILE: HOSTILE}, policies=[HOSTILE])
    g.add_node(BUCKET, NodeKind.RESOURCE, account=ACCOUNT, name=f"bucket {HOSTILE}", resource_type="s3:bucket")
    ref = StatementRef(policy=HOSTILE, layer=PolicyKind.IDENTITY, index=0, sid=HOSTILE, effect=Effect.ALLOW)
    g.add_edge(
        DerivedEdge(
            source=USER,
            target=BUCKET,
            kind=EdgeKind.ACCESS,
            technique="s3:GetObject",
            actions=("s3:GetObject",),
            proof=(MatchedStatement(ref=ref, conditional=False),),
            access={"Read": ("s3:GetObject",)},
            note=HOSTILE,
        )
    )
    return g


@pytest.mark.parametrize("snapshot", ["hostile", HOSTILE])
def test_hostile_strings_round_trip(neo4j_uri: str, snapshot: str) -> None:
    store = Neo4jStore(neo4j_uri, user="neo4j", password=PASSWORD, snapshot=snapshot)
    try:
        store.load(_graph(), snapshot="sentinel")
        sentinel = store.counts("sentinel")
        store.load(_graph(), snapshot=snapshot)
        assert store.counts("sentinel") == sentinel == {"nodes": 3, "relationships": 1}
        assert store.counts(snapshot) == {"nodes": 3, "relationships": 1}

        node = store.node(HOSTILE)  # looked up by its name
        assert node["node"]["id"] == USER
        assert node["node"]["name"] == HOSTILE
        assert node["node"]["tags"] == {HOSTILE: HOSTILE}
        answer = store.who_can(BUCKET)
        assert [p["arn"] for p in answer["principals"]] == [USER]
        hop = answer["principals"][0]["path"][0]
        assert hop["proof"][0]["sid"] == HOSTILE and hop["proof"][0]["policy"] == HOSTILE
        memory = MemoryStore(snapshot)
        memory.load(_graph())
        assert answer == memory.who_can(BUCKET)
        assert store.edge(USER, BUCKET) == memory.edge(USER, BUCKET)
        assert store.node(USER) == memory.node(USER)
    finally:
        store.close()
