"""A query's time budget bounds its Cypher: a statement still running at the deadline is stopped by the
server (transaction timeout) and answers LimitExceeded, as the memory store's traversals do."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from iamgraph.graph.queries import Deadline, LimitExceeded
from iamgraph.store.neo4j_conn import budget
from iamgraph.store.neo4j_store import Neo4jStore

from .conftest import PASSWORD

SLOW = "UNWIND range(1, 300000000) AS x WITH x WHERE x % 7 = 0 RETURN count(x) AS c"


@pytest.fixture(scope="module")
def store(neo4j_uri: str) -> Iterator[Neo4jStore]:
    s = Neo4jStore(neo4j_uri, user="neo4j", password=PASSWORD, snapshot="budget")
    yield s
    s.close()


def test_a_statement_past_its_deadline_is_stopped(store: Neo4jStore) -> None:
    started = time.monotonic()
    with budget(Deadline.after(0.3)), pytest.raises(LimitExceeded) as hit:
        store.read(SLOW)
    assert hit.value.limit == "time_budget_s" and hit.value.value == 0.3
    assert time.monotonic() - started < 20  # stopped by the server, not run to the end


def test_a_spent_budget_sends_nothing(store: Neo4jStore) -> None:
    with pytest.raises(LimitExceeded):
        store.privesc(deadline=Deadline.after(0))
    assert store.read("RETURN 1 AS one") == [{"one": 1}]  # no budget outside a query
