"""Error shapes, the bearer token, and the bounds every query runs under."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iamgraph.graph.queries import Analysis

from .conftest import AUDITOR, BUCKET, EXTERNAL, TOKEN, assert_error, make_app

# ---- error shapes ----------------------------------------------------------------------------------


def test_unknown_node_is_404_with_close_matches(client: TestClient) -> None:
    detail = assert_error(
        client.get("/queries/who-can", params={"resource": "acme-prod-report"}), 404, "node_not_found"
    )
    assert detail["element"] == "resource"
    assert "acme-prod-reports" in detail["close_matches"]


def test_validation_errors_name_the_field(client: TestClient) -> None:
    detail = assert_error(client.post("/queries/path", json={"source": "alice"}), 422, "validation_error")
    assert detail["errors"][0]["field"] == "target" and detail["errors"][0]["in"] == "body"
    detail = assert_error(
        client.post("/queries/path", json={"source": "a", "target": "b", "max_depth": 0}), 422, "validation_error"
    )
    assert detail["errors"][0]["field"] == "max_depth"
    detail = assert_error(
        client.get("/queries/who-can", params={"resource": BUCKET, "colour": "red"}), 422, "validation_error"
    )
    assert detail["errors"][0]["field"] == "colour" and detail["errors"][0]["in"] == "query"
    detail = assert_error(
        client.post("/queries/who-can", json={"resource": BUCKET, "context": ["no-equals-sign"]}),
        422,
        "validation_error",
    )
    assert detail["errors"][0]["field"] == "context.0"
    detail = assert_error(
        client.post("/queries/who-can", json={"resource": BUCKET, "assume_unknown": "maybe"}), 422, "validation_error"
    )
    assert detail["errors"][0]["field"] == "assume_unknown"
    assert_error(
        client.post("/queries/who-can", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "validation_error",
    )


def test_library_input_errors_are_422_with_the_element(client: TestClient) -> None:
    detail = assert_error(
        client.get("/queries/who-can", params={"resource": BUCKET, "action": "s3:NoSuchAction"}), 422, "invalid_input"
    )
    assert detail["element"] == "--action"
    detail = assert_error(client.get("/queries/access-levels", params={"principal": BUCKET}), 422, "invalid_input")
    assert detail["element"] == "principal"


def test_unknown_route_and_method_have_the_same_shape(client: TestClient) -> None:
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.put("/queries/who-can"), 405, "method_not_allowed")
    assert_error(client.get("/snapshots/no-such"), 404, "snapshot_not_found")
    assert_error(client.delete("/snapshots/no-such"), 404, "snapshot_not_found")


def test_not_ready_without_snapshots() -> None:
    with TestClient(make_app({})) as c:
        assert c.get("/healthz").status_code == 200
        detail = assert_error(c.get("/readyz"), 503, "not_ready")
        assert detail["loading"] is False
        assert_error(c.get("/queries/privesc"), 503, "not_ready")


def test_internal_errors_keep_the_shape(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from iamgraph.store import MemoryStore

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(MemoryStore, "privesc", boom)  # the routes ask the snapshot's store
    with TestClient(client.app, raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        body = assert_error(c.get("/queries/privesc"), 500, "internal_error")
        assert body is None


# ---- bearer token -----------------------------------------------------------------------------------


@pytest.fixture
def guarded(analyses: dict[str, tuple[Analysis, float]]) -> Any:
    with TestClient(make_app(analyses, api_token=TOKEN)) as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/snapshots"),
        ("get", "/snapshots/single"),
        ("delete", "/snapshots/single"),
        ("post", "/snapshots?name=x"),
        ("get", "/queries/who-can?resource=x"),
        ("post", "/queries/privesc"),
        ("get", "/graph/search?q=a"),
        ("get", "/graph/export"),
        ("post", "/simulate"),
    ],
)
def test_token_required_on_every_data_route(guarded: TestClient, method: str, path: str) -> None:
    r = guarded.request(method, path)
    assert_error(r, 401, "unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert_error(guarded.request(method, path, headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    assert_error(guarded.request(method, path, headers={"Authorization": f"Basic {TOKEN}"}), 401, "unauthorized")


def test_right_token_passes_and_health_stays_open(guarded: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/snapshots", headers=auth).status_code == 200
    assert guarded.get("/queries/privesc", headers=auth).status_code == 200
    assert guarded.get("/healthz").status_code == 200
    assert guarded.get("/readyz").status_code == 200


def test_token_and_query_strings_never_reach_the_log(guarded: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    guarded.get(
        "/queries/path", params={"source": EXTERNAL, "target": AUDITOR, "context": "sts:ExternalId=x9"}, headers=auth
    )
    guarded.get("/snapshots", headers={"Authorization": "Bearer a-wrong-guess"})
    access = [r.getMessage() for r in caplog.records if r.name == "iamgraph.api.access"]
    assert any(m.startswith("GET /queries/path 200 ") for m in access), access
    assert any(m.startswith("GET /snapshots 401 ") for m in access), access
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("iamgraph", "uvicorn")))
    assert TOKEN not in text and "a-wrong-guess" not in text and "x9" not in text


# ---- bounds -------------------------------------------------------------------------------------------


def test_depth_and_path_limits_above_the_server_caps(analyses: dict[str, tuple[Analysis, float]]) -> None:
    with TestClient(make_app(analyses, max_depth=4, max_paths=5, max_nodes=10)) as c:
        d = assert_error(c.get("/queries/who-can", params={"resource": BUCKET, "max_depth": 5}), 422, "limit_exceeded")
        assert d == {"limit": "max_depth", "value": 4}
        d = assert_error(
            c.post(
                "/queries/path", json={"source": EXTERNAL, "target": AUDITOR, "all": True, "limit": 6, "max_depth": 3}
            ),
            422,
            "limit_exceeded",
        )
        assert d == {"limit": "max_paths", "value": 5}
        d = assert_error(c.get("/graph/neighbourhood", params={"node": "bob", "limit": 11}), 422, "limit_exceeded")
        assert d == {"limit": "max_nodes", "value": 10}
        d = assert_error(c.get("/graph/search", params={"q": "a", "limit": 11}), 422, "limit_exceeded")
        assert d == {"limit": "max_nodes", "value": 10}
        ok = c.post(
            "/queries/path", json={"source": EXTERNAL, "target": AUDITOR, "all": True, "limit": 5, "max_depth": 4}
        )
        assert ok.status_code == 200 and ok.json()["bounds"] == {"max_depth": 4, "limit": 5}
        assert ok.headers["x-iamgraph-bounds"] == "max_depth=4, limit=5, time_budget_s=10"


def test_schema_caps_hold_whatever_the_server_settings(client: TestClient) -> None:
    d = assert_error(client.get("/queries/privesc", params={"max_depth": 51}), 422, "validation_error")
    assert d["errors"][0]["field"] == "max_depth"
    d = assert_error(
        client.post("/queries/path", json={"source": "a", "target": "b", "limit": 10_001}), 422, "validation_error"
    )
    assert d["errors"][0]["field"] == "limit"


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "/queries/who-can", {"resource": BUCKET}),
        ("post", "/queries/can", {"principal": "bob", "resource": BUCKET, "action": "s3:GetObject"}),
        ("post", "/queries/path", {"source": EXTERNAL, "target": AUDITOR, "all": True}),
        ("get", "/queries/privesc", {}),
        ("get", "/queries/exposure", {}),
        ("get", "/queries/access-levels", {"principal": "alice"}),
        ("get", "/queries/diff", {"old": "single", "new": "org"}),
        ("get", "/graph/neighbourhood", {"node": "bob"}),
    ],
)
def test_time_budget_exceeded_is_422_naming_the_limit(
    analyses: dict[str, tuple[Analysis, float]], method: str, path: str, payload: dict[str, Any]
) -> None:
    with TestClient(make_app(analyses, query_time_budget_s=0)) as c:
        r = c.get(path, params=payload) if method == "get" else c.post(path, json=payload)
        d = assert_error(r, 422, "limit_exceeded")
        assert d == {"limit": "time_budget_s", "value": 0}


def test_time_budget_stops_an_exploding_path_query(analyses: dict[str, tuple[Analysis, float]]) -> None:
    """All simple paths through a clique explode (13! of them); the deadline ends the search, not the worker."""
    import time

    from iamgraph.edges.base import DerivedEdge, EdgeKind
    from iamgraph.graph.model import AccessGraph, NodeKind

    base = analyses["single"][0]
    g = AccessGraph()
    nodes = [f"arn:aws:iam::111122223333:role/r{i}" for i in range(14)]
    for n in [*nodes, "arn:aws:iam::111122223333:role/sink"]:  # sink: unreachable, so no path ever ends the search
        g.add_node(n, NodeKind.ROLE, name=n.rsplit("/", 1)[-1])
    for a in nodes:
        for b in nodes:
            if a != b:
                g.add_edge(DerivedEdge(source=a, target=b, kind=EdgeKind.ASSUME, technique="sts:AssumeRole"))
    clique = Analysis(snapshot=base.snapshot, estate=base.estate, graph=g)
    with TestClient(make_app({"clique": (clique, 0.0)}, query_time_budget_s=0.3, max_paths=10_000, max_depth=20)) as c:
        started = time.monotonic()
        r = c.post("/queries/path", json={"source": "r0", "target": "sink", "all": True, "max_depth": 14, "limit": 10})
        elapsed = time.monotonic() - started
    d = assert_error(r, 422, "limit_exceeded")
    assert d == {"limit": "time_budget_s", "value": 0.3}
    assert elapsed < 5


def test_json_body_size_is_capped(analyses: dict[str, tuple[Analysis, float]]) -> None:
    with TestClient(make_app(analyses, max_body_bytes=1000)) as c:
        big = [{"id": str(i), "request": {"action": "s3:GetObject"}} for i in range(100)]
        d = assert_error(c.post("/simulate", json=big), 413, "body_too_large")
        assert d == {"limit": "max_body_bytes", "value": 1000}


def test_simulate_document_count_is_capped(analyses: dict[str, tuple[Analysis, float]]) -> None:
    with TestClient(make_app(analyses, max_documents=2)) as c:
        d = assert_error(c.post("/simulate", json=[{}, {}, {}]), 422, "limit_exceeded")
        assert d == {"limit": "max_documents", "value": 2}


def test_store_unavailable_is_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from iamgraph.errors import StoreUnavailable
    from iamgraph.store import MemoryStore

    def down(*_: Any, **__: Any) -> Any:
        raise StoreUnavailable("neo4j is down")

    monkeypatch.setattr(MemoryStore, "privesc", down)
    assert_error(client.get("/queries/privesc"), 503, "store_unavailable")
