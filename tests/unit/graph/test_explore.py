"""Query-layer helpers of the API: node/edge details, prefix search, neighbourhood, deadlines, close matches."""

from pathlib import Path

import pytest

from iamgraph.graph.queries import (
    Analysis,
    AssumeUnknown,
    Deadline,
    LimitExceeded,
    NodeNotFound,
    SearchIndex,
    WhatIf,
    edge_details,
    find_paths,
    neighbourhood,
    node_details,
    privesc,
    search,
    who_can,
)
from iamgraph.ingest import load_snapshot

ROOT = Path(__file__).resolve().parents[3]
A = "111122223333"
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB = f"arn:aws:iam::{A}:user/engineering/bob"
AUDITOR = f"arn:aws:iam::{A}:role/auditor"
EXTERNAL = "arn:aws:iam::444455556666:root"
BUCKET = "arn:aws:s3:::acme-prod-reports"


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return Analysis.of(load_snapshot(ROOT / "fixtures" / "small" / "single-account"))


def test_node_details(analysis: Analysis) -> None:
    d = node_details(analysis, "alice")
    assert d["node"]["id"] == ALICE and d["node"]["admin"] is True and d["node"]["admin_proof"]
    assert sum(d["edges_out"].values()) == analysis.graph.graph.out_degree(ALICE)


def test_edge_details_resolve_under_the_what_if(analysis: Analysis) -> None:
    keep = edge_details(analysis, EXTERNAL, AUDITOR)
    assert [e["holds"] for e in keep["edges"]] == ["conditional"]
    deny = edge_details(analysis, EXTERNAL, AUDITOR, whatif=WhatIf({}, AssumeUnknown.DENY))
    assert [e["holds"] for e in deny["edges"]] == ["no"]
    assert keep["edges"][0]["proof"] == deny["edges"][0]["proof"]


def test_search_is_prefix_case_insensitive_and_bounded(analysis: Analysis) -> None:
    index = SearchIndex.of(analysis)
    assert [m["id"] for m in search(analysis, "ALI", index=index)["matches"]] == [ALICE]
    assert BUCKET in {m["id"] for m in search(analysis, "acme-prod", index=index)["matches"]}
    capped = search(analysis, "arn:aws:iam::", limit=3, index=index)
    assert len(capped["matches"]) == 3 and capped["truncated"]
    exact_first = search(analysis, "bob", index=index)["matches"]
    assert exact_first[0]["id"] == BOB


def test_neighbourhood_bounds(analysis: Analysis) -> None:
    full = neighbourhood(analysis, "bob", depth=2)
    ids = {n["id"] for n in full["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in full["edges"])
    one = neighbourhood(analysis, "bob", depth=1)
    assert {n["distance"] for n in one["nodes"]} <= {0, 1} and len(one["nodes"]) <= len(full["nodes"])
    tiny = neighbourhood(analysis, "bob", depth=2, limit=1)
    assert len(tiny["nodes"]) == 1 and tiny["truncated"]


def test_expired_deadline_stops_traversals(analysis: Analysis) -> None:
    gone = Deadline(at=0.0, budget=0.5)
    for run in (
        lambda: who_can(analysis, BUCKET, deadline=gone),
        lambda: find_paths(analysis, EXTERNAL, AUDITOR, all_paths=True, deadline=gone),
        lambda: privesc(analysis, deadline=gone),
        lambda: neighbourhood(analysis, "bob", deadline=gone),
    ):
        with pytest.raises(LimitExceeded) as exc:
            run()
        assert exc.value.limit == "time_budget_s" and exc.value.value == 0.5
    assert who_can(analysis, BUCKET, deadline=Deadline.after(60))["principals"]


def test_node_not_found_carries_close_matches(analysis: Analysis) -> None:
    with pytest.raises(NodeNotFound) as exc:
        analysis.resolve("acme-prod-report", what="resource")
    assert "acme-prod-reports" in exc.value.candidates
