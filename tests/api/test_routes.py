"""Every route answers with the JSON of the query layer (docs/cli.md), validated by its response model."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api import schemas
from iamgraph.graph.queries import (
    Analysis,
    AssumeUnknown,
    WhatIf,
    access_levels,
    can,
    diff,
    exposure,
    find_paths,
    privesc,
    who_can,
)

from .conftest import ALICE, AUDITOR, BOB, BUCKET, EXTERNAL, ROOT

HOP_KEYS = {"source", "target", "kind", "technique", "actions", "conditions", "proof"}


def _same(got: Any, expected: Any) -> None:
    assert got == json.loads(json.dumps(expected, default=str))


def _valid(model: type[BaseModel], body: Any) -> None:
    model.model_validate(body)


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "snapshots": ["single", "org"], "default": "single"}


def test_root_serves_the_explorer(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)  # the browser UI (tests/ui); the API's docs stay at /docs
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_list_and_show_snapshots(client: TestClient) -> None:
    body = client.get("/snapshots").json()
    _valid(schemas.SnapshotList, body)
    assert body["default"] == "single"
    assert [s["name"] for s in body["snapshots"]] == ["single", "org"]
    one = client.get("/snapshots/org").json()
    assert one["name"] == "org" and one["accounts"] == 2 and one["default"] is False and one["source"] == "data"


def test_who_can_get_and_post_match_the_query_layer(client: TestClient, analyses: dict[str, Any]) -> None:
    analysis: Analysis = analyses["single"][0]
    expected = who_can(analysis, BUCKET, action="s3:ListBucket", limit=100)  # the API's default page
    got = client.get("/queries/who-can", params={"resource": BUCKET, "action": "s3:ListBucket"})
    assert got.status_code == 200
    _same(got.json(), expected)
    _valid(schemas.WhoCanResult, got.json())
    assert got.headers["x-iamgraph-bounds"] == "max_depth=8, limit=100, time_budget_s=10"
    posted = client.post("/queries/who-can", json={"resource": "acme-prod-reports", "action": "s3:ListBucket"})
    assert posted.json() == got.json()
    for p in got.json()["principals"]:
        assert all(set(h) >= HOP_KEYS for h in p["path"])


def test_who_can_by_access_level_and_snapshot(client: TestClient, analyses: dict[str, Any]) -> None:
    r = client.get("/queries/who-can", params={"resource": BUCKET, "access_level": "Read", "snapshot": "single"})
    _same(r.json(), who_can(analyses["single"][0], BUCKET, access_level="Read", limit=100))
    assert r.json()["action"] is None


def test_who_can_pages_through_the_api(client: TestClient, analyses: dict[str, Any]) -> None:
    whole = who_can(analyses["single"][0], BUCKET)
    listed = []
    for offset in range(0, whole["total"], 2):
        r = client.get("/queries/who-can", params={"resource": BUCKET, "limit": 2, "offset": offset})
        assert r.status_code == 200 and r.json()["total"] == whole["total"]
        assert r.headers["x-iamgraph-bounds"].startswith("max_depth=8, limit=2,")
        listed += r.json()["principals"]
    _same(listed, whole["principals"])
    r = client.get("/queries/who-can", params={"resource": BUCKET, "limit": 100_000})
    assert r.status_code == 422 and "max_paths" in r.text  # above the server's cap: refused, never clipped


def test_can(client: TestClient, analyses: dict[str, Any]) -> None:
    q = {"principal": BOB, "resource": BUCKET, "action": "s3:ListBucket"}
    r = client.post("/queries/can", json=q)
    _same(r.json(), can(analyses["single"][0], BOB, BUCKET, "s3:ListBucket"))
    _valid(schemas.CanResult, r.json())
    assert r.json()["answer"] in ("yes", "conditional", "no")
    assert client.get("/queries/can", params=q).json() == r.json()


def test_path_shortest_and_all_with_what_if(client: TestClient, analyses: dict[str, Any]) -> None:
    analysis = analyses["single"][0]
    r = client.get("/queries/path", params={"source": EXTERNAL, "target": AUDITOR})
    _same(r.json(), find_paths(analysis, EXTERNAL, AUDITOR))
    _valid(schemas.PathResult, r.json())
    assert r.json()["paths"][0]["conditional"] is True
    assert r.headers["x-iamgraph-bounds"].startswith("max_depth=6, limit=1")
    deny = client.post("/queries/path", json={"source": EXTERNAL, "target": AUDITOR, "assume_unknown": "deny"})
    assert deny.json()["paths"] == []
    allow = client.post(
        "/queries/path", json={"source": EXTERNAL, "target": AUDITOR, "all": True, "assume_unknown": "allow"}
    )
    _same(
        allow.json(),
        find_paths(analysis, EXTERNAL, AUDITOR, all_paths=True, whatif=WhatIf({}, AssumeUnknown.ALLOW)),
    )
    assert allow.json()["bounds"] == {"max_depth": 6, "limit": 20}


def test_context_pairs_resolve_conditions(client: TestClient, analyses: dict[str, Any]) -> None:
    analysis = analyses["single"][0]
    hop = client.get("/queries/path", params={"source": EXTERNAL, "target": AUDITOR}).json()["paths"][0]["hops"][0]
    assert hop["conditions"]
    params = {"source": EXTERNAL, "target": AUDITOR, "context": ["sts:ExternalId=wrong", "aws:SourceIp=[1.2.3.4]"]}
    r = client.get("/queries/path", params=params)
    whatif = WhatIf({"sts:ExternalId": "wrong", "aws:SourceIp": ("1.2.3.4",)})
    _same(r.json(), find_paths(analysis, EXTERNAL, AUDITOR, whatif=whatif))


def test_privesc_exposure_access_levels(client: TestClient, analyses: dict[str, Any]) -> None:
    analysis = analyses["single"][0]
    r = client.get("/queries/privesc")
    _same(r.json(), privesc(analysis))
    _valid(schemas.PrivescResult, r.json())
    r = client.post("/queries/exposure", json={})
    _same(r.json(), exposure(analysis, limit=100))  # the API lists 100 per outsider by default
    _valid(schemas.ExposureResult, r.json())
    r = client.get("/queries/access-levels", params={"principal": "alice"})
    _same(r.json(), access_levels(analysis, "alice"))
    _valid(schemas.AccessLevelsResult, r.json())
    assert r.json()["admin"] is True


def test_privesc_on_the_demo_org(demo_client: TestClient, demo: dict[str, Any]) -> None:
    r = demo_client.get("/queries/privesc", params={"max_depth": 6})
    _same(r.json(), privesc(demo["demo"][0], max_depth=6))
    assert r.json()["escalations"], "the demo organization has escalation paths"
    _valid(schemas.PrivescResult, r.json())


def test_diff_between_loaded_snapshots(client: TestClient, analyses: dict[str, Any]) -> None:
    r = client.get("/queries/diff", params={"old": "single", "new": "org"})
    _same(r.json(), diff(analyses["single"][0], analyses["org"][0]))
    _valid(schemas.DiffResult, r.json())
    assert r.json()["edges_lost"] and r.json()["admins_gained"]
    same = client.post("/queries/diff", json={"old": "single", "new": "single"}).json()
    assert same["edges_gained"] == same["edges_lost"] == []


def test_node_details_with_admin_proof(client: TestClient) -> None:
    r = client.get("/graph/node", params={"node": "alice"})
    body = r.json()
    _valid(schemas.NodeDetails, body)
    assert body["node"]["id"] == ALICE and body["node"]["kind"] == "user" and body["node"]["admin"] is True
    assert body["node"]["admin_proof"], "an admin node carries the statements that make it admin"
    assert body["edges_out"]["member"] >= 1


def test_edge_details_with_proof_and_what_if(client: TestClient) -> None:
    r = client.get("/graph/edges", params={"source": EXTERNAL, "target": AUDITOR})
    body = r.json()
    _valid(schemas.EdgeDetails, body)
    (edge,) = body["edges"]
    assert "trust" in {m["layer"] for m in edge["proof"]}
    assert edge["conditional"] is True and edge["holds"] == "conditional"
    denied = client.get("/graph/edges", params={"source": EXTERNAL, "target": AUDITOR, "assume_unknown": "deny"})
    assert denied.json()["edges"][0]["holds"] == "no"
    filtered = client.get("/graph/edges", params={"source": EXTERNAL, "target": AUDITOR, "kind": "access"})
    assert filtered.json()["edges"] == []


def test_neighbourhood(client: TestClient) -> None:
    r = client.get("/graph/neighbourhood", params={"node": "bob", "depth": 2})
    body = r.json()
    _valid(schemas.Neighbourhood, body)
    ids = {n["id"] for n in body["nodes"]}
    assert body["center"] == BOB and BOB in ids
    assert all(e["source"] in ids and e["target"] in ids for e in body["edges"])
    assert {n["distance"] for n in body["nodes"]} <= {0, 1, 2}
    small = client.get("/graph/neighbourhood", params={"node": "bob", "depth": 2, "limit": 2}).json()
    assert len(small["nodes"]) == 2 and small["truncated"] is True
    assert r.headers["x-iamgraph-bounds"].startswith("max_depth=2, limit=200")


def test_search_by_name_and_arn_prefix(client: TestClient) -> None:
    r = client.get("/graph/search", params={"q": "ali"})
    body = r.json()
    _valid(schemas.SearchResult, body)
    assert [m["id"] for m in body["matches"]] == [ALICE]
    by_arn = client.get("/graph/search", params={"q": "arn:aws:s3:::ACME"}).json()
    assert BUCKET in {m["id"] for m in by_arn["matches"]}
    capped = client.get("/graph/search", params={"q": "arn:", "limit": 2}).json()
    assert len(capped["matches"]) == 2 and capped["truncated"] is True
    assert client.get("/graph/search", params={"q": "zzz-nothing"}).json()["matches"] == []


def test_summary_and_exports(client: TestClient) -> None:
    summary = client.get("/graph/summary").json()
    _valid(schemas.GraphSummary, summary)
    exported = client.get("/graph/export")
    assert exported.headers["content-type"].startswith("application/json")
    body = exported.json()
    _valid(schemas.GraphExport, body)
    assert len(body["nodes"]) == sum(summary["nodes"].values())
    graphml = client.get("/graph/export", params={"format": "graphml", "snapshot": "org"})
    assert graphml.headers["content-type"].startswith("application/graphml+xml")
    assert graphml.text.startswith("<?xml") and 'filename="org.graphml"' in graphml.headers["content-disposition"]
    cypher = client.get("/graph/export", params={"format": "cypher"})
    assert cypher.text.startswith("CREATE CONSTRAINT")


def _demo_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = json.loads((ROOT / "fixtures" / "examples" / "simulate-demo.json").read_text())
    return docs


def test_simulate_one_and_many_documents(client: TestClient) -> None:
    from iamgraph.evaluation.document import evaluate_document

    docs = _demo_documents()
    r = client.post("/simulate", json=docs)
    body = r.json()
    _valid(schemas.SimulateResult, body)
    assert body["failed"] == 0
    assert body["results"] == [evaluate_document(d, index=i).to_json() for i, d in enumerate(docs)]
    one = client.post("/simulate", json=docs[0]).json()
    assert one["results"] == body["results"][:1]


def test_simulate_reports_bad_documents_by_index_and_element(client: TestClient) -> None:
    docs = [*_demo_documents()[:1], {"request": {"action": "s3:GetObject"}}, "not an object"]
    body = client.post("/simulate", json=docs).json()
    assert body["failed"] == 2
    assert "decision" in body["results"][0]
    bad = body["results"][1]
    assert bad["index"] == 1 and bad["error"]["code"] == "invalid_document"
    assert bad["error"]["detail"]["element"] == "request.principal"
    assert body["results"][2]["index"] == 2


def test_simulate_exact_context(client: TestClient) -> None:
    doc = _demo_documents()[0]
    r = client.post("/simulate", params={"exact_context": True}, json=doc)
    assert r.status_code == 200 and r.json()["failed"] == 0


def test_openapi_is_complete(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = [(m, p, op) for p, item in spec["paths"].items() for m, op in item.items()]
    assert len(operations) >= 25
    for method, path, op in operations:
        ok = op["responses"].get("200") or op["responses"].get("201")
        assert ok, (method, path)
        assert ok["content"]["application/json"]["schema"], (method, path)
        if path not in ("/healthz", "/readyz"):
            assert "422" in op["responses"] or method == "delete" or path.startswith("/snapshots"), (method, path)
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


@pytest.mark.parametrize("path", ["/queries/who-can", "/graph/node", "/graph/neighbourhood"])
def test_get_routes_take_the_snapshot_name(client: TestClient, path: str) -> None:
    params = {"resource": "x", "node": "x"}
    params = {k: v for k, v in params.items() if (k == "resource") == (path == "/queries/who-can")}
    r = client.get(path, params={**params, "snapshot": "no-such"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "snapshot_not_found"


def test_fixture_paths_exist() -> None:
    assert Path(ROOT / "fixtures" / "small" / "single-account").is_dir()


def _wait_loaded(c: TestClient) -> Any:
    import time

    registry = c.app.state.registry  # type: ignore[attr-defined]
    for _ in range(600):
        if not registry.loading:
            break
        time.sleep(0.1)
    return c.get("/readyz")


def test_app_factory_loads_env_snapshots_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from api.main import app_factory
    from api.settings import get_settings

    bad = ROOT / "fixtures" / "small" / "bad" / "malformed-json"
    monkeypatch.setenv(
        "IAMGRAPH_DATA", os.pathsep.join([str(ROOT / "fixtures" / "small" / "single-account"), str(bad)])
    )
    monkeypatch.setenv("IAMGRAPH_USE_CACHE", "false")
    get_settings.cache_clear()
    try:
        with TestClient(app_factory()) as c:
            assert c.get("/healthz").status_code == 200
            r = _wait_loaded(c)
            assert r.status_code == 200 and r.json()["snapshots"] == ["single-account"]
            assert c.app.state.registry.load_errors[0].startswith("malformed-json: ")  # type: ignore[attr-defined]
    finally:
        get_settings.cache_clear()


def test_answers_are_cached_per_snapshot_load(analyses: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    from .conftest import SINGLE, make_app, snapshot_files, tar_gz

    caplog.set_level(logging.INFO, logger="iamgraph.api")
    with TestClient(make_app(analyses)) as c:
        params = {"resource": BUCKET, "action": "s3:ListBucket", "snapshot": "org"}
        first = c.get("/queries/who-can", params=params)
        assert first.status_code == 404  # not in the org snapshot: errors are never cached
        body = tar_gz(snapshot_files(SINGLE))
        assert c.post("/snapshots", params={"name": "org", "replace": True}, content=body).status_code == 201
        again = c.get("/queries/who-can", params=params)
        assert again.status_code == 200 and again.json()["principals"]
        cached = c.get("/queries/who-can", params=params)
        assert (
            cached.content == again.content
            and cached.headers["x-iamgraph-bounds"] == again.headers["x-iamgraph-bounds"]
        )
        assert len(c.app.state.cache._items) == 1  # type: ignore[attr-defined]
        assert (c.app.state.cache.hits, c.app.state.cache.lookups) == (1, 3)  # type: ignore[attr-defined]
        c.delete("/snapshots/org")
        assert c.get("/queries/who-can", params=params).status_code == 404
    assert "answers served from the response cache: 1 of 3" in caplog.text  # said when the server stops
    with TestClient(make_app(analyses, response_cache_bytes=0)) as c:
        c.get("/queries/privesc")
        assert not c.app.state.cache._items  # type: ignore[attr-defined]
