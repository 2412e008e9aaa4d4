"""The UI routes of the API (page, static files, views, evidence files) and ``iamgraph viz``, without a browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from api.settings import Settings
from iamgraph.cli import app
from iamgraph.graph.queries import Analysis, who_can
from iamgraph.ingest import load_snapshot
from ui.page import SERVED_CSP

from .conftest import DEMO, DEPLOY_SID, GET_SECRET, SECRET

TOKEN = "ui-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return Analysis.of(load_snapshot(DEMO))


@pytest.fixture
def client(demo: Analysis) -> Iterator[TestClient]:
    settings = Settings(data="", use_cache=False, api_token=TOKEN, max_paths=50)
    with TestClient(create_app(settings, preloaded={"demo": (demo, 0.0)})) as c:
        yield c


def test_the_page_needs_no_token_and_carries_the_policy(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == SERVED_CSP
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert 'id="query-form"' in r.text and 'id="iamgraph-boot"' in r.text
    assert client.head("/").status_code == 200


@pytest.mark.parametrize(
    ("name", "media"),
    [("explorer.js", "text/javascript"), ("explorer.css", "text/css"), ("vis-network.min.js", "text/javascript")],
)
def test_static_files(client: TestClient, name: str, media: str) -> None:
    r = client.get(f"/ui/static/{name}")
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert r.headers["content-security-policy"] == SERVED_CSP


@pytest.mark.parametrize("name", ["nothing.js", "..%2F..%2Fpyproject.toml", "template.html", "%2e%2e"])
def test_static_files_are_a_closed_list(client: TestClient, name: str) -> None:
    assert client.get(f"/ui/static/{name}").status_code == 404


def test_views_need_the_token(client: TestClient) -> None:
    r = client.get("/ui/views/who-can", params={"resource": SECRET})
    assert r.status_code == 401
    assert client.get("/ui/evidence/privesc").status_code == 401


def test_who_can_view(client: TestClient, demo: Analysis) -> None:
    r = client.get("/ui/views/who-can", params={"resource": SECRET, "action": GET_SECRET}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"view", "network"}
    principals = who_can(demo, SECRET, action=GET_SECRET)["principals"]
    assert body["view"]["total_items"] == len(principals)
    assert body["view"]["generated"]["snapshot"] == "demo"
    assert len(body["network"]["nodes"]) == len(body["view"]["nodes"])
    assert any(s["sid"] == DEPLOY_SID for s in body["view"]["statements"])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("path", {"source": "dev-alice", "target": "nightly-maintenance-role", "all": "true"}),
        ("privesc", {"context": "aws:MultiFactorAuthPresent=true"}),
        ("exposure", {"assume_unknown": "deny"}),
        ("neighbourhood", {"node": "dev-alice", "limit": "5"}),
    ],
)
def test_other_views(client: TestClient, path: str, params: dict[str, str]) -> None:
    r = client.get(f"/ui/views/{path}", params=params, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["view"]["query"]["kind"] == path


def test_view_errors_use_the_api_shapes(client: TestClient) -> None:
    missing = client.get("/ui/views/who-can", params={"resource": "db-credential"}, headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "node_not_found"
    too_many = client.get("/ui/views/path", params={"source": "a", "target": "b", "limit": 100}, headers=AUTH)
    assert too_many.status_code == 422 and too_many.json()["error"]["detail"]["limit"] == "max_paths"
    bad = client.get("/ui/views/who-can", params={"resource": SECRET, "limit": 0}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def test_evidence_download(client: TestClient) -> None:
    params = {"resource": SECRET, "action": GET_SECRET, "redact": "true"}
    r = client.get("/ui/evidence/who-can", params=params, headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-disposition"] == 'attachment; filename="iamgraph-who-can-redacted.html"'
    assert '<meta http-equiv="Content-Security-Policy"' in r.text
    assert "846271093514" not in r.text and "CrossAccountDeploy" not in r.text


runner = CliRunner()


def test_viz_writes_one_offline_file(tmp_path: Path) -> None:
    out = tmp_path / "finding.html"
    r = runner.invoke(app, ["viz", "privesc", "--data", str(DEMO), "-o", str(out), "--no-cache"])
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "Who can escalate to admin" in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "wrote" in r.output and "opens offline" in r.output


def test_viz_redact_key_gives_the_same_file_content(tmp_path: Path) -> None:
    outs = []
    for name in ("a.html", "b.html"):
        out = tmp_path / name
        args = ["viz", "path", "dev-alice", "ProdAdmin", "--data", str(DEMO), "-o", str(out), "--no-cache"]
        r = runner.invoke(app, [*args, "--redact", "--redact-key", "k1"])
        assert r.exit_code == 0, r.output
        outs.append(re.sub(r'"at":"[^"]+"', "", out.read_text(encoding="utf-8")))
    assert outs[0] == outs[1] and "dev-alice" not in outs[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["who-can", "no-such-thing"], 'no such resource "no-such-thing"'),
        (["who-can", SECRET, "--action", "s3:NoSuchAction"], 'unknown action "s3:NoSuchAction"'),
        (["neighbourhood", "ProdAdmin", "--data", "no/such/dir"], "no such file or directory"),
    ],
    ids=["unknown-resource", "unknown-action", "missing-data"],
)
def test_viz_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    data = [] if "--data" in args else ["--data", str(DEMO)]
    r = runner.invoke(app, ["viz", *args, *data, "-o", str(tmp_path / "x.html"), "--no-cache"])
    assert r.exit_code == 2 and message in r.output
    assert not (tmp_path / "x.html").exists()
