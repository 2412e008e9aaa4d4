"""The "review" view without a browser: findings as items, their nodes and hops, the route, ``iamgraph viz review``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from api.settings import Settings
from iamgraph.cli import app
from iamgraph.graph.queries import Analysis
from iamgraph.ingest import load_snapshot
from iamgraph.review import review
from ui.page import standalone_page
from ui.render import edge_id, network, node_id
from ui.view import ViewQuery, build_view

from .conftest import DEMO, HOSTILE

TOKEN = "ui-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HOSTILE_TITLE = "<img src=x onerror=window.__pwned=19>"


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return Analysis.of(load_snapshot(DEMO))


@pytest.fixture(scope="module")
def report(demo: Analysis) -> dict[str, Any]:
    return review(demo).to_json()


@pytest.fixture(scope="module")
def view(demo: Analysis) -> dict[str, Any]:
    return build_view(demo, ViewQuery(kind="review", limit=1000))


def _pairs(finding: dict[str, Any]) -> list[list[str]]:
    hops = [h for p in finding["evidence"]["paths"] for h in p["hops"]]
    return [list(p) for p in dict.fromkeys((h["source"], h["target"]) for h in hops)]


def test_one_item_per_finding_in_review_order(view: dict[str, Any], report: dict[str, Any]) -> None:
    assert view["total_items"] == report["summary"]["findings"] == len(view["items"])
    assert [i["finding"]["id"] for i in view["items"]] == [f["id"] for f in report["findings"]]
    assert all(i["label"] == i["finding"]["title"] and i["note"] == i["finding"]["check"] for i in view["items"])
    assert view["more"] == []
    as_of = report["as_of"]["time"]
    assert as_of and any(as_of in e["text"] for lst in view["lists"] if lst["title"] == "As of" for e in lst["entries"])


def test_each_finding_carries_its_nodes_and_hops(demo: Analysis, view: dict[str, Any]) -> None:
    graph = demo.graph.graph
    drawn = {n["id"] for n in view["nodes"]}
    hops = {(e["source"], e["target"]): e["hops"] for e in view["edges"]}
    escalations = [i for i in view["items"] if i["finding"]["check"] == "escalation-path"]
    assert escalations and all(i["edges"] for i in escalations)
    for item in view["items"]:
        ev = item["finding"]["evidence"]
        assert item["edges"] == _pairs(item["finding"])
        ends = {n for pair in item["edges"] for n in pair}
        assert set(item["nodes"]) == {n for n in ev["principals"] + ev["resources"] if n in graph} | ends
        assert set(item["nodes"]) <= drawn
        for path in ev["paths"]:  # every hop drawn with its proof unchanged
            for h in path["hops"]:
                kept = [x for x in hops[(h["source"], h["target"])] if x["technique"] == h["technique"]]
                assert any(x["proof"] == h["proof"] and x["conditions"] == h["conditions"] for x in kept)


def test_evidence_statements_have_their_text(view: dict[str, Any]) -> None:
    known = {(s["layer"], s["policy"], s["index"]): s for s in view["statements"]}
    refs = [s for i in view["items"] for s in i["finding"]["evidence"]["statements"]]
    assert refs
    for ref in refs:
        entry = known[(ref["layer"], ref["policy"], ref["index"])]
        assert entry["sid"] == ref["sid"]


def test_network_has_every_finding_node_and_edge(view: dict[str, Any]) -> None:
    net = network(view)
    ids = {n["id"] for n in net["nodes"]}
    edges = {e["id"] for e in net["edges"]}
    for item in view["items"]:
        assert {node_id(a) for a in item["nodes"]} <= ids
        assert {edge_id(s, t) for s, t in item["edges"]} <= edges


def test_severity_filter_and_limit(demo: Analysis, report: dict[str, Any]) -> None:
    high = [f for f in report["findings"] if f["severity"] in ("critical", "high")]
    v = build_view(demo, ViewQuery(kind="review", min_severity="high", limit=3))
    assert v["total_items"] == len(high) and len(v["items"]) == 3
    assert v["more"] == [{"anchor": None, "count": len(high) - 3, "what": "findings", "incoming": True}]
    assert v["query"]["params"] == {"min_severity": "high", "limit": 3}
    assert v["title"] == "Review findings (high and above)"


def test_hostile_findings_stay_inside_the_json_block() -> None:
    hostile = Analysis.of(load_snapshot(HOSTILE))
    v = build_view(hostile, ViewQuery(kind="review"))
    assert any(HOSTILE_TITLE in i["finding"]["title"] for i in v["items"])
    html = standalone_page({"view": v, "network": network(v)})
    assert "<img" not in html and "window.__pwned" in html  # present only as escaped JSON text


# ---- the route and the CLI ----------------------------------------------------------------------------


@pytest.fixture
def client(demo: Analysis) -> Iterator[TestClient]:
    settings = Settings(data="", use_cache=False, api_token=TOKEN)
    with TestClient(create_app(settings, preloaded={"demo": (demo, 0.0)})) as c:
        yield c


def test_review_view_route_counts_what_get_review_counts(client: TestClient) -> None:
    params = {"min_severity": "high"}
    expected = client.get("/review", params=params, headers=AUTH)
    assert expected.status_code == 200, expected.text
    r = client.get("/ui/views/review", params=params, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["view"]["total_items"] == expected.json()["summary"]["findings"]
    assert [i["finding"]["id"] for i in body["view"]["items"]] == [f["id"] for f in expected.json()["findings"]]
    assert client.get("/ui/views/review").status_code == 401
    bad = client.get("/ui/views/review", params={"min_severity": "severe"}, headers=AUTH)
    assert bad.status_code == 422
    whatif = client.get("/ui/views/review", params={"context": "aws:SourceIp=1.2.3.4"}, headers=AUTH)
    assert whatif.status_code == 422  # the review takes no what-if context: refused, not ignored


def test_review_evidence_download_redacted(client: TestClient) -> None:
    r = client.get("/ui/evidence/review", params={"min_severity": "critical", "redact": "true"}, headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-disposition"] == 'attachment; filename="iamgraph-review-redacted.html"'
    assert "846271093514" not in r.text and "GitHubActionsCI" not in r.text


def test_viz_review_writes_a_redacted_file(tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    args = ["viz", "review", "--data", str(HOSTILE), "-o", str(out), "--no-cache", "--redact"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "Review findings" in html and "redacted" in r.output
    assert "210987654321" not in html
    bad = CliRunner().invoke(app, ["viz", "review", "--data", str(HOSTILE), "-o", str(out), "--as-of", "soon"])
    assert bad.exit_code == 2
