"""``store=neo4j`` without a server, and the memory mode's own GraphStore.

A Neo4j server that is down answers 503 on every data route and on /readyz (never a 500); the routes that
need the analysed estate in memory answer 501 and say so in the OpenAPI; ``iamgraph serve --store neo4j``
exits 2 with one line before it binds. The memory mode asks each snapshot's MemoryStore. Answers against a
real Neo4j: tests/integration/neo4j/test_api.py.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from api.settings import Settings
from iamgraph.cli import app as cli
from iamgraph.graph.queries import Analysis, search
from iamgraph.store import MemoryStore
from iamgraph.store.base import SnapshotNotFound

from .conftest import SINGLE, assert_error

MEMORY_ONLY = [
    ("GET", "/queries/can?principal=alice&resource=acme-prod-reports&action=s3:ListBucket"),
    ("POST", "/queries/can"),
    ("GET", "/queries/access-levels?principal=alice"),
    ("POST", "/queries/access-levels"),
    ("GET", "/queries/diff?old=a&new=b"),
    ("GET", "/graph/summary"),
    ("GET", "/graph/export"),
    ("POST", "/snapshots?name=copy"),
    ("DELETE", "/snapshots/single"),
]
BODIES = {
    "/queries/can": {"principal": "alice", "resource": "acme-prod-reports", "action": "s3:ListBucket"},
    "/queries/access-levels": {"principal": "alice"},
}
NEO4J_ENV = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "IAMGRAPH_NEO4J_URI", "IAMGRAPH_NEO4J_PASSWORD")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def down() -> Iterator[TestClient]:
    """An API on a Neo4j that is not there (a closed port on loopback)."""
    settings = Settings(data="", store="neo4j", neo4j_uri=f"bolt://127.0.0.1:{closed_port()}", neo4j_password="x")
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*NEO4J_ENV, "IAMGRAPH_STORE", "IAMGRAPH_DATA", "IAMGRAPH_API_TOKEN", "IAMGRAPH_SNAPSHOTS"):
        monkeypatch.delenv(name, raising=False)


# ---- a Neo4j server that is down ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("GET", "/readyz", None),
        ("GET", "/queries/who-can?resource=acme-prod-reports", None),
        ("POST", "/queries/path", {"source": "alice", "target": "auditor"}),
        ("GET", "/queries/privesc", None),
        ("POST", "/queries/exposure", {}),
        ("GET", "/graph/node?node=alice", None),
        ("GET", "/graph/edges?source=alice&target=auditor", None),
        ("GET", "/graph/neighbourhood?node=alice", None),
        ("GET", "/graph/search?q=al", None),
        ("GET", "/snapshots", None),
        ("GET", "/snapshots/single", None),
    ],
)
def test_server_down_is_503_never_500(down: TestClient, method: str, route: str, body: Any) -> None:
    r = down.request(method, route, json=body)
    assert_error(r, 503, "store_unavailable")
    assert "is unavailable" in r.json()["error"]["message"] and "Traceback" not in r.text
    assert down.get("/healthz").status_code == 200


def test_a_failed_connection_is_retried_later(down: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.graphs

    graphs = down.app.state.graphs  # type: ignore[attr-defined]
    attempts: list[str] = []
    real = api.graphs.open_neo4j

    def counting(settings: Settings, snapshot: str = "default") -> Any:
        attempts.append(snapshot)
        return real(settings, snapshot)

    monkeypatch.setattr(api.graphs, "open_neo4j", counting)
    for _ in range(3):
        assert down.get("/queries/privesc").status_code == 503
    assert len(attempts) == 1  # within RETRY_AFTER_S the same 503, without another attempt
    monkeypatch.setattr(api.graphs, "RETRY_AFTER_S", 0.0)
    assert down.get("/queries/privesc").status_code == 503 and len(attempts) == 2
    assert graphs.kind == "neo4j"


# ---- routes beyond the GraphStore protocol ------------------------------------------------------------


@pytest.mark.parametrize(("method", "route"), MEMORY_ONLY, ids=[f"{m} {r.split('?')[0]}" for m, r in MEMORY_ONLY])
def test_routes_beyond_the_store_answer_501(down: TestClient, method: str, route: str) -> None:
    body = BODIES.get(route) if method == "POST" else None
    detail = assert_error(down.request(method, route, json=body), 501, "needs_memory_store")
    assert detail == {"store": "neo4j", "needs": "memory"}
    assert "--store memory" in down.request(method, route, json=body).json()["error"]["message"]


def test_openapi_documents_501_and_503() -> None:
    paths = create_app(Settings(data="")).openapi()["paths"]
    for method, route in MEMORY_ONLY:
        template = route.split("?")[0].replace("/single", "/{name}")
        assert "501" in paths[template][method.lower()]["responses"], (method, route)
    for template in ("/queries/who-can", "/queries/path", "/graph/node", "/graph/search", "/graph/neighbourhood"):
        responses = paths[template]["get"]["responses"]
        assert "501" not in responses and "503" in responses
    assert "503" in paths["/readyz"]["get"]["responses"] and "503" in paths["/snapshots"]["get"]["responses"]


# ---- settings and `iamgraph serve --store neo4j` --------------------------------------------------------


def test_settings_read_the_cli_variables_and_keep_the_password_secret(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IAMGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", "bolt://db:7687")
    monkeypatch.setenv("NEO4J_USER", "reader")
    monkeypatch.setenv("NEO4J_PASSWORD", "pa55-word")
    s = Settings()
    assert (s.store, s.neo4j_uri, s.neo4j_user) == ("neo4j", "bolt://db:7687", "reader")
    assert s.neo4j_password is not None and s.neo4j_password.get_secret_value() == "pa55-word"
    assert "pa55-word" not in repr(s) and "pa55-word" not in str(s)
    monkeypatch.setenv("IAMGRAPH_NEO4J_URI", "bolt://other:7687")  # the IAMGRAPH_ twin wins
    assert Settings().neo4j_uri == "bolt://other:7687"
    assert Settings(neo4j_uri="bolt://flag:1").neo4j_uri == "bolt://flag:1"  # flags win over both


def test_empty_secrets_are_unset(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMGRAPH_API_TOKEN", "")
    monkeypatch.setenv("NEO4J_PASSWORD", "")
    s = Settings()
    assert s.api_token is None and s.neo4j_password is None
    r = CliRunner().invoke(cli, ["serve", "--data", str(SINGLE), "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "without a token" in r.output  # an empty token never opens a public bind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "neo4j", "--data", str(SINGLE)], "--data and --name are for --store memory"),
        (["--store", "neo4j"], "needs a Bolt URI"),
        (["--store", "bolt"], "invalid setting: store: Input should be 'memory' or 'neo4j'"),
        (["--store", "neo4j", "--uri", "http://nope"], "not a Neo4j URI"),
        (["--store", "neo4j", "--uri", "bolt://127.0.0.1:{port}", "--password", "hush-4711"], "is unavailable"),
    ],
    ids=["data-with-neo4j", "no-uri", "bad-store", "bad-uri", "server-down"],
)
def test_serve_neo4j_refusals_are_one_line(clean_env: None, args: list[str], message: str) -> None:
    args = [a.replace("{port}", str(closed_port())) for a in args]
    r = CliRunner().invoke(cli, ["serve", *args])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("iamgraph serve: ") and message in lines[0], r.output
    assert "hush-4711" not in r.output and "Traceback" not in r.output


def test_serve_store_from_the_environment(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{closed_port()}")
    r = CliRunner().invoke(cli, ["serve"])
    assert r.exit_code == 2 and "is unavailable" in r.output


# ---- the memory mode asks a MemoryStore per snapshot ----------------------------------------------------


def test_memory_routes_ask_the_snapshots_store(client: TestClient, analyses: dict[str, tuple[Analysis, float]]) -> None:
    entry = client.app.state.registry.get("single")  # type: ignore[attr-defined]
    assert isinstance(entry.store, MemoryStore) and entry.store is entry.store
    r = client.get("/graph/search?q=a&snapshot=single&limit=3")
    assert r.json() == search(analyses["single"][0], "a", limit=3)
    assert entry.store._indexes  # built once, kept with the store
    assert client.get("/snapshots").json()["snapshots"][0]["source"] == "data"
    assert client.get("/readyz").json()["snapshots"] == ["single", "org"]


def test_memory_store_snapshots_at_and_search(analyses: dict[str, tuple[Analysis, float]]) -> None:
    store = MemoryStore("single")
    store.load(analyses["single"][0])
    store.load(analyses["org"][0], snapshot="org")
    names = [s["name"] for s in store.snapshots()]
    assert names == ["org", "single"]
    single = store.at("single")
    assert single.snapshot == "single" and store.snapshot == "org"
    info = next(s for s in store.snapshots() if s["name"] == "single")
    g = analyses["single"][0].graph.graph
    assert (info["nodes"], info["edges"]) == (g.number_of_nodes(), g.number_of_edges()) and info["loaded_at"]
    for prefix in ("a", "ARN:aws:iam", "alice", "zz"):
        assert single.search(prefix, limit=2) == search(analyses["single"][0], prefix, limit=2)
    with pytest.raises(SnapshotNotFound) as missing:
        store.at("nope").privesc()
    assert missing.value.available == ["org", "single"]
