"""The HTTP API on a Neo4j store (``store=neo4j``) answers as on the memory store, on fixtures/demo-org.

The routes the GraphStore protocol covers give the same status and the same JSON in both modes; the
snapshots and readiness come from the database; ``iamgraph serve --store neo4j`` checks the credentials
and the snapshots before it starts (one line, exit 2). The tests that need no server (501 routes, a server
that is down) are in tests/api/test_store_mode.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import api.serve
from api.main import create_app
from api.settings import Settings
from iamgraph.cli import app as cli
from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries import Analysis
from iamgraph.store.neo4j_store import Neo4jStore

from .conftest import PASSWORD

SNAPSHOT = "api-demo"


def _settings(uri: str, **extra: Any) -> Settings:
    return Settings(data="", store="neo4j", neo4j_uri=uri, neo4j_password=PASSWORD, neo4j_timeout_s=3, **extra)


@pytest.fixture(scope="module")
def demo(neo4j_uri: str, analyses: dict[str, Analysis]) -> Analysis:
    """demo-org, loaded into Neo4j under its own snapshot name."""
    store = Neo4jStore(neo4j_uri, user="neo4j", password=PASSWORD, snapshot=SNAPSHOT)
    try:
        store.load(analyses["demo-org"])
    finally:
        store.close()
    return analyses["demo-org"]


@pytest.fixture(scope="module")
def clients(neo4j_uri: str, demo: Analysis) -> Iterator[tuple[TestClient, TestClient]]:
    memory = create_app(Settings(data="", use_cache=False), preloaded={SNAPSHOT: (demo, 0.0)})
    neo4j = create_app(_settings(neo4j_uri, snapshots=SNAPSHOT))
    with TestClient(memory) as m, TestClient(neo4j) as n:
        yield m, n


def _nodes(a: Analysis, kinds: set[NodeKind], n: int) -> list[str]:
    found = sorted(str(x) for x, d in a.graph.graph.nodes(data=True) if d.get("kind") in kinds)
    return found[:: max(1, len(found) // n)][:n]


def _requests(a: Analysis) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, route, params) over the routes the GraphStore protocol covers, on chosen nodes."""
    resources = _nodes(a, {NodeKind.RESOURCE}, 6)
    principals = _nodes(a, {NodeKind.USER, NodeKind.ROLE, NodeKind.EXTERNAL_ACCOUNT, NodeKind.ANYONE}, 5)
    mfa = ["aws:MultiFactorAuthPresent=true", "aws:SourceIp=203.0.113.7"]
    out: list[tuple[str, str, dict[str, Any]]] = []
    for r in resources:
        actions = sorted({x for _, _, d in a.graph.graph.in_edges(r, data=True) for x in d["edge"].actions})
        out.append(("GET", "/queries/who-can", {"resource": r}))
        out.append(("POST", "/queries/who-can", {"resource": r, "context": mfa, "assume_unknown": "deny"}))
        if actions:
            out.append(("GET", "/queries/who-can", {"resource": r, "action": actions[0], "max_depth": 3}))
        out.append(("GET", "/graph/node", {"node": r}))
    for s in principals:
        for t in principals[::-1][:3] + resources[:2]:
            out.append(("GET", "/queries/path", {"source": s, "target": t}))
            out.append(("POST", "/queries/path", {"source": s, "target": t, "all": True, "max_depth": 4, "limit": 5}))
        out.append(("GET", "/graph/node", {"node": s}))
        out.append(("GET", "/graph/neighbourhood", {"node": s, "depth": 2, "limit": 40}))
        for _, t in list(a.graph.graph.out_edges(s))[:2]:
            out.append(("GET", "/graph/edges", {"source": s, "target": t}))
            out.append(("GET", "/graph/edges", {"source": s, "target": t, "kind": EdgeKind.ASSUME.value}))
    for w in ({}, {"context": mfa}, {"assume_unknown": "allow"}):
        out.append(("POST", "/queries/privesc", dict(w)))
        out.append(("POST", "/queries/exposure", dict(w)))
    out.append(("GET", "/queries/privesc", {"max_depth": 2}))
    out.append(("GET", "/queries/exposure", {"max_depth": 1}))
    for q in ("a", "arn:aws:iam::", "ARN:AWS:S3", "finance", "zz-no-such"):
        out.append(("GET", "/graph/search", {"q": q, "limit": 5}))
    # errors are answers too: unknown names (close matches) and bad requests
    out.append(("GET", "/queries/who-can", {"resource": "no-such-bucket-xyz"}))
    out.append(("GET", "/graph/node", {"node": "alcie"}))
    out.append(("GET", "/queries/path", {"source": principals[0], "target": principals[1], "max_depth": 0}))
    return out


def _ask(client: TestClient, method: str, route: str, params: dict[str, Any]) -> tuple[int, Any]:
    if method == "POST":
        r = client.post(route, json={**params, "snapshot": SNAPSHOT})
    else:
        r = client.get(route, params={**params, "snapshot": SNAPSHOT})
    return r.status_code, r.json()


def test_same_json_as_the_memory_store(clients: tuple[TestClient, TestClient], demo: Analysis) -> None:
    memory, neo4j = clients
    requests = _requests(demo)
    assert len(requests) > 60
    bad = []
    for method, route, params in requests:
        want, got = _ask(memory, method, route, params), _ask(neo4j, method, route, params)
        if want != got:
            bad.append(f"{method} {route} {params}: {want[0]} vs {got[0]}")
    assert bad == []
    statuses = {_ask(memory, m, r, p)[0] for m, r, p in requests}
    assert {200, 404, 422} <= statuses


def test_default_snapshot_and_bounds_header(clients: tuple[TestClient, TestClient]) -> None:
    memory, neo4j = clients
    want = memory.get("/queries/privesc")
    got = neo4j.get("/queries/privesc")  # no snapshot: the first --snapshot
    assert got.status_code == 200 and got.json() == want.json()
    assert got.headers["X-Iamgraph-Bounds"] == want.headers["X-Iamgraph-Bounds"]


def test_snapshots_and_readiness(clients: tuple[TestClient, TestClient]) -> None:
    memory, neo4j = clients
    listed = neo4j.get("/snapshots").json()
    assert listed["default"] == SNAPSHOT and [s["name"] for s in listed["snapshots"]] == [SNAPSHOT]
    info, reference = neo4j.get(f"/snapshots/{SNAPSHOT}").json(), memory.get(f"/snapshots/{SNAPSHOT}").json()
    assert info == listed["snapshots"][0]
    assert info["source"] == "neo4j" and info["default"] and info["load_seconds"] is None and info["loaded_at"]
    counts = ("accounts", "nodes", "edges", "admins")
    assert {k: info[k] for k in counts} == {k: reference[k] for k in counts}
    assert neo4j.get("/readyz").json() == {"status": "ready", "snapshots": [SNAPSHOT], "default": SNAPSHOT}


def test_unknown_snapshots_are_404(neo4j_uri: str, clients: tuple[TestClient, TestClient]) -> None:
    _, restricted = clients
    for r in (restricted.get("/queries/privesc?snapshot=other"), restricted.get("/snapshots/other")):
        assert r.status_code == 404 and r.json()["error"]["code"] == "snapshot_not_found"
        assert r.json()["error"]["detail"] == {"snapshots": [SNAPSHOT]}
    with TestClient(create_app(_settings(neo4j_uri))) as every:  # all snapshots of the database
        assert SNAPSHOT in [s["name"] for s in every.get("/snapshots").json()["snapshots"]]
        assert every.get(f"/queries/exposure?snapshot={SNAPSHOT}").status_code == 200
        missing = every.get("/queries/exposure?snapshot=never-loaded")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "snapshot_not_found"
        assert SNAPSHOT in missing.json()["error"]["detail"]["snapshots"]
    with TestClient(create_app(_settings(neo4j_uri, snapshots=f"{SNAPSHOT},never-loaded"))) as some:
        missing = some.get("/queries/exposure?snapshot=never-loaded")  # served, but not in the database
        assert missing.status_code == 404 and missing.json()["error"]["detail"] == {"snapshots": [SNAPSHOT]}
        assert some.get("/readyz").json()["snapshots"] == [SNAPSHOT]


def test_time_budget_is_a_422(neo4j_uri: str, demo: Analysis) -> None:
    with TestClient(create_app(_settings(neo4j_uri, snapshots=SNAPSHOT, query_time_budget_s=0))) as c:
        r = c.get("/queries/privesc")
    assert r.status_code == 422 and r.json()["error"]["detail"] == {"limit": "time_budget_s", "value": 0}


def _recorder(calls: list[tuple[Any, ...]]) -> Any:
    """A stand-in for uvicorn: records what ``iamgraph serve`` would run with, then returns 0."""

    def run(*args: Any) -> int:
        calls.append(args)
        return 0

    return run


def test_serve_wrong_password_exits_2_with_one_line(neo4j_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[Any, ...]] = []
    monkeypatch.setattr(api.serve, "_run", _recorder(started))
    secret = "not-the-password-4711"
    result = CliRunner().invoke(cli, ["serve", "--store", "neo4j", "--uri", neo4j_uri, "--password", secret])
    assert result.exit_code == 2 and not started
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "refused the credentials" in lines[0] and secret not in result.output


def test_serve_checks_the_snapshots_then_runs(neo4j_uri: str, demo: Analysis, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[Any, ...]] = []
    monkeypatch.setattr(api.serve, "_run", _recorder(started))
    monkeypatch.setenv("NEO4J_PASSWORD", PASSWORD)
    runner = CliRunner()
    missing = runner.invoke(cli, ["serve", "--store", "neo4j", "--uri", neo4j_uri, "--snapshot", "never-loaded"])
    assert missing.exit_code == 2 and len(missing.output.strip().splitlines()) == 1
    assert "no snapshot never-loaded" in missing.output and not started
    ok = runner.invoke(cli, ["serve", "--store", "neo4j", "--uri", neo4j_uri, "--snapshot", SNAPSHOT])
    assert ok.exit_code == 0, ok.output
    settings, preloaded, serving = started[0]
    assert settings.store == "neo4j" and settings.snapshot_names() == [SNAPSHOT] and SNAPSHOT in serving
    assert preloaded == {} and settings.neo4j_password is not None and PASSWORD not in repr(settings)
