"""The explorer and the evidence files in a real browser (Debian's Chromium, headless, via Playwright)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from typer.testing import CliRunner

from iamgraph.cli import app
from iamgraph.graph.queries import Analysis
from iamgraph.ingest import load_snapshot
from ui.redact import Redactor

from .conftest import DEMO, DEPLOY, DEPLOY_SID, GET_SECRET, HOSTILE, ROOT, SECRET, Watched
from .helpers import click_edge, click_node, drawn, edge_id, node_id, wait_drawn

HOSTILE_BUCKET = "arn:aws:s3:::hostile-reports"
HOSTILE_ROLE = "arn:aws:iam::210987654321:role/<img src=x onerror=window.__pwned=2>"
HOSTILE_USER = "arn:aws:iam::210987654321:user/<svg onload=window.__pwned=1>/mallory"


def _api(server: str, path: str, **params: Any) -> Any:
    r = httpx.get(f"{server}{path}", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _expected(paths: list[list[dict[str, Any]]], *extra: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The nodes and (source, target) pairs an answer's paths draw: one drawn edge per pair."""
    nodes, pairs = set(extra), set()
    for hops in paths:
        for h in hops:
            nodes |= {h["source"], h["target"]}
            pairs.add((h["source"], h["target"]))
    return nodes, pairs


def _open(w: Watched, server: str, **query: str) -> None:
    w.page.goto(f"{server}/#{urlencode(query)}")
    wait_drawn(w.page)


def _assert_clean(w: Watched, allowed: str) -> None:
    outside = [u for u in w.requests if not u.startswith(allowed)]
    assert outside == [], f"requests left {allowed}: {outside}"
    assert w.csp_violations() == []
    assert w.dialogs == []
    assert w.errors == []


def test_explorer_draws_who_can_locally(server: str, watched: Watched, artifacts: Path) -> None:
    answer = _api(server, "/queries/who-can", snapshot="demo", resource=SECRET, action=GET_SECRET)
    nodes, pairs = _expected([p["path"] for p in answer["principals"]], SECRET)
    assert DEPLOY in {p["arn"] for p in answer["principals"]}  # EXPECTED.md §3.5

    _open(watched, server, kind="who-can", snapshot="demo", resource=SECRET, action=GET_SECRET)
    got = drawn(watched.page)
    assert (got["nodes"], got["edges"]) == (len(nodes), len(pairs))
    assert set(got["arns"]) == nodes
    assert set(got["edge_ids"]) == {edge_id(s, t) for s, t in pairs}
    assert edge_id(DEPLOY, SECRET) in got["edge_ids"]
    assert watched.page.locator("#more-banner").is_hidden()
    stats = watched.page.locator("#view-stats").inner_text()
    assert f"{len(answer['principals'])} of {len(answer['principals'])} drawn" in stats
    assert watched.page.locator("#results li").count() == len(answer["principals"])
    _assert_clean(watched, "http://127.0.0.1:")

    headers = httpx.get(f"{server}/").headers
    assert headers["content-security-policy"].startswith("default-src 'none'; script-src 'self';")
    assert "unsafe-inline" not in headers["content-security-policy"]

    click_edge(watched.page, DEPLOY, SECRET)  # the proof next to the graph, for the screenshots
    watched.page.locator("#details .hop").first.wait_for()
    corner = watched.page.evaluate(
        "() => { const b = document.querySelector('#network canvas').getBoundingClientRect();"
        " return [b.left + 4, b.bottom - 4]; }"
    )
    watched.page.mouse.move(*corner)  # off the edge: no hover tooltip over the graph
    watched.page.locator("div.vis-tooltip").wait_for(state="hidden")
    shot = artifacts / "ui-explorer-demo-org.png"
    watched.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    if os.environ.get("IAMGRAPH_UPDATE_DOCS_SCREENSHOT"):
        shutil.copyfile(shot, ROOT / "docs" / "ui-explorer.png")


def test_clicking_an_edge_shows_its_proof(server: str, watched: Watched) -> None:
    _open(watched, server, kind="who-can", snapshot="demo", resource=SECRET, action=GET_SECRET)
    page = watched.page
    click_edge(page, DEPLOY, SECRET)
    assert page.evaluate("window.iamgraph.network.getSelectedEdges()") == [edge_id(DEPLOY, SECRET)]
    details = page.locator("#details")
    details.locator(".hop").first.wait_for()
    assert details.locator(".sid").filter(has_text=DEPLOY_SID).count() == 1
    assert "resource-access" in details.inner_text()
    row = details.locator(".proof-row", has=page.locator(".sid", has_text=DEPLOY_SID))
    assert "resource" in row.inner_text() and SECRET in row.inner_text()
    statement = row.locator("details.stmt")
    statement.locator("summary").click()
    text = statement.locator("pre").inner_text()
    assert f'"Sid": "{DEPLOY_SID}"' in text and GET_SECRET in text and DEPLOY in text


def test_clicking_a_node_shows_its_details(server: str, watched: Watched) -> None:
    node = _api(server, "/graph/node", snapshot="demo", node=DEPLOY)["node"]
    _open(watched, server, kind="who-can", snapshot="demo", resource=SECRET, action=GET_SECRET)
    click_node(watched.page, DEPLOY)
    details = watched.page.locator("#details")
    details.locator("dl.props").first.wait_for()
    text = details.inner_text()
    assert DEPLOY in text and "846271093514" in text and "example-prod" in text
    for policy in node["policies"]:
        assert policy in text
    for key, value in node["tags"].items():
        assert key in text and value in text


def test_autocomplete_then_whatif_reruns(server: str, watched: Watched) -> None:
    page = watched.page
    page.goto(f"{server}/")
    page.locator("#q-snapshot option[value=demo]").wait_for(state="attached")
    page.select_option("#q-snapshot", "demo")
    page.fill("#q-resource", "db-credentials")
    page.locator("#q-resource-list li").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#q-resource") == SECRET
    page.fill("#q-action", GET_SECRET)
    page.click("#run")
    wait_drawn(page)
    before = drawn(page)

    page.select_option("#w-mfa", "false")  # what if nobody has MFA: the MFA-conditional paths disappear
    expected = _api(
        server, "/queries/who-can", snapshot="demo", resource=SECRET, action=GET_SECRET,
        context="aws:MultiFactorAuthPresent=false",
    )  # fmt: skip
    nodes, pairs = _expected([p["path"] for p in expected["principals"]], SECRET)
    page.wait_for_function("(n) => window.iamgraph.network.body.data.nodes.length === n", arg=len(nodes))
    after = drawn(page)
    assert set(after["arns"]) == nodes and after["edges"] == len(pairs)
    assert after["nodes"] < before["nodes"]
    assert any("context=aws%3AMultiFactorAuthPresent%3Dfalse" in u for u in watched.requests)
    _assert_clean(watched, "http://127.0.0.1:")


def test_large_answer_is_capped_with_n_more(server: str, watched: Watched) -> None:
    answer = _api(server, "/queries/who-can", snapshot="demo", resource=SECRET, action=GET_SECRET)
    total = len(answer["principals"])
    _open(watched, server, kind="who-can", snapshot="demo", resource=SECRET, action=GET_SECRET, limit="5")
    page = watched.page
    nodes, pairs = _expected([p["path"] for p in answer["principals"][:5]], SECRET)
    got = drawn(page)
    assert (got["nodes"], got["edges"]) == (len(nodes) + 1, len(pairs) + 1)  # plus the "N more" node and its edge
    more = page.evaluate("window.iamgraph.network.body.data.nodes.get({filter: (n) => n.styleKey === 'more'})")
    assert [m["label"] for m in more] == [f"+{total - 5} more principals"]
    banner = page.locator("#more-banner")
    assert banner.is_visible() and f"+{total - 5} more principals" in banner.inner_text()
    banner.get_by_role("button", name="Draw up to 10").click()
    page.wait_for_function("() => window.iamgraph.state.view.items.length === 10")


def test_expand_a_neighbourhood(server: str, watched: Watched) -> None:
    _open(watched, server, kind="who-can", snapshot="demo", resource=SECRET, action=GET_SECRET)
    page = watched.page
    before = set(drawn(page)["arns"])
    around = _api(server, "/graph/neighbourhood", snapshot="demo", node=DEPLOY, depth=1, limit=40)
    click_node(page, DEPLOY)
    page.get_by_role("button", name="Expand neighbourhood").click()
    expected = before | {n["id"] for n in around["nodes"]}
    page.wait_for_function("(n) => window.iamgraph.state.nodeInfo.size === n", arg=len(expected))
    assert set(drawn(page)["arns"]) == expected
    assert "Edge" not in page.locator("#status").inner_text()


def test_hostile_names_render_as_text(server: str, watched: Watched) -> None:
    page = watched.page
    _open(watched, server, kind="who-can", snapshot="hostile", resource=HOSTILE_BUCKET)
    assert set(drawn(page)["arns"]) == {HOSTILE_BUCKET, HOSTILE_ROLE, HOSTILE_USER}
    details = page.locator("#details")

    click_node(page, HOSTILE_ROLE)
    details.locator("table.tags").wait_for()
    text = details.inner_text()
    assert "<img src=x onerror=window.__pwned=12>" in text  # a tag value
    assert "</script><script>window.__pwned=13</script>" in text  # a tag key
    assert "<img src=x onerror=window.__pwned=3>" in text  # an attached managed policy's name

    click_edge(page, HOSTILE_USER, HOSTILE_ROLE)
    details.locator(".hop").first.wait_for()
    text = details.inner_text()
    assert "</script><script>window.__pwned=8</script>" in text  # the trust statement's Sid
    assert "<img src=x onerror=window.__pwned=9>" in text  # inside the residual condition
    assert "<img src=x onerror=window.__pwned=5>" in text  # the user's Sid

    click_node(page, HOSTILE_USER)
    details.locator("table.tags").wait_for()
    assert "</script><script>window.__pwned=7</script>" in details.inner_text()
    page.mouse.move(*page.evaluate(
        "(id) => { const n = window.iamgraph.network; const d = n.canvasToDOM(n.getPositions([id])[id]);"
        " const b = n.canvas.frame.canvas.getBoundingClientRect(); return [b.left + d.x, b.top + d.y]; }",
        node_id(HOSTILE_ROLE),
    ))  # fmt: skip
    tooltip = page.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible")
    assert HOSTILE_ROLE in tooltip.inner_text()
    assert tooltip.evaluate("(t) => [...t.children].every((c) => c.tagName === 'BR')")  # innerText's line breaks
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    _assert_inert(watched)
    assert "<img src=x onerror=window.__pwned=2>" in page.locator("#results").inner_text()  # the role, as text


def _assert_inert(w: Watched) -> None:
    """Nothing from the estate became markup or ran: no flag, no dialog, no image, no handler, no CSP report."""
    page = w.page
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert w.dialogs == []
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    handlers = page.evaluate(
        "[...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on')))"
        ".map((e) => e.outerHTML.slice(0, 80))"
    )
    assert handlers == []
    scripts = page.evaluate("[...document.scripts].map((s) => s.type || 'classic')")
    assert scripts.count("application/json") == 1 and len(scripts) == 3
    assert w.csp_violations() == []


runner = CliRunner()


def _viz(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    r = runner.invoke(app, ["viz", *args, "-o", str(out), "--no-cache"])
    assert r.exit_code == 0, r.output
    return out


def test_evidence_file_opens_offline_with_the_same_details(server: str, watched: Watched, tmp_path: Path) -> None:
    answer = _api(server, "/queries/who-can", snapshot="demo", resource=SECRET, action=GET_SECRET)
    nodes, pairs = _expected([p["path"] for p in answer["principals"]], SECRET)
    out = _viz(tmp_path, "finding.html", "who-can", SECRET, "--action", GET_SECRET, "--data", str(DEMO))
    page = watched.page
    page.goto(out.as_uri())
    wait_drawn(page)
    got = drawn(page)
    assert (got["nodes"], got["edges"]) == (len(nodes), len(pairs))
    click_edge(page, DEPLOY, SECRET)
    page.locator("#details .hop").first.wait_for()
    assert page.locator("#details .sid", has_text=DEPLOY_SID).count() == 1
    click_node(page, DEPLOY)
    page.locator("#details dl.props").first.wait_for()
    assert "example-prod" in page.locator("#details").inner_text()
    assert "secretsmanager:GetSecretValue" in page.locator("#finding").inner_text()
    assert watched.requests == [out.as_uri()]  # the file itself, nothing else
    assert watched.csp_violations() == [] and watched.errors == []


def test_redacted_evidence_file_keeps_the_proof(watched: Watched, tmp_path: Path) -> None:
    out = _viz(
        tmp_path, "redacted.html", "who-can", SECRET, "--action", GET_SECRET, "--data", str(DEMO), "--redact",
        "--redact-key", "review-2026",
    )  # fmt: skip
    html = out.read_text(encoding="utf-8")
    for secret in ("846271093514", "example-prod", "CrossAccountDeploy", "db-credentials-Xk3p9Q", "o-7hq2k9x4m1"):
        assert secret not in html
    # The same key gives the same pseudonyms: computed here independently of the file.
    redactor = Redactor.for_analysis(Analysis.of(load_snapshot(DEMO)), key=b"review-2026")
    deploy, secret = redactor.text(DEPLOY), redactor.text(SECRET)
    assert deploy != DEPLOY and deploy.startswith("arn:aws:iam::acct-") and ":role/" in deploy
    page = watched.page
    page.goto(out.as_uri())
    wait_drawn(page)
    assert {deploy, secret} <= set(drawn(page)["arns"])
    click_edge(page, deploy, secret)
    details = page.locator("#details")
    details.locator(".hop").first.wait_for()
    assert details.locator(".sid", has_text=DEPLOY_SID).count() == 1  # Sids are kept: they explain the proof
    assert secret in details.inner_text()  # the resource policy is named by the same pseudonymous ARN
    assert "yes: names and account ids are pseudonyms" in page.locator("#finding").inner_text()
    assert watched.requests == [out.as_uri()]


def test_hostile_evidence_file_is_inert(watched: Watched, tmp_path: Path) -> None:
    out = _viz(tmp_path, "hostile.html", "who-can", HOSTILE_BUCKET, "--data", str(HOSTILE))
    page = watched.page
    page.goto(out.as_uri())
    wait_drawn(page)
    for arn in (HOSTILE_ROLE, HOSTILE_USER, HOSTILE_BUCKET):
        click_node(page, arn)
        page.locator("#details dl.props").first.wait_for()
    click_edge(page, HOSTILE_USER, HOSTILE_ROLE)
    page.locator("#details .hop").first.wait_for()
    assert "</script><script>window.__pwned=8</script>" in page.locator("#details").inner_text()
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    _assert_inert(watched)
    assert watched.requests == [out.as_uri()]


@pytest.mark.parametrize("kind", ["path", "privesc", "exposure"])
def test_other_queries_draw_their_answer(server: str, watched: Watched, kind: str) -> None:
    args: dict[str, str] = {"kind": kind, "snapshot": "demo"}
    if kind == "path":
        args |= {"source": "arn:aws:iam::915630472846:user/dev-alice", "all": "true",
                 "target": "arn:aws:iam::846271093514:role/service-role/nightly-maintenance-role"}  # fmt: skip
    api_args = {k: v for k, v in args.items() if k != "kind"}
    answer = _api(server, f"/queries/{kind}", **api_args)
    args["limit"] = "20" if kind == "path" else "1000"  # draw the whole answer (the path API's default limit)
    if kind == "path":
        paths = [p["hops"] for p in answer["paths"]]
    elif kind == "privesc":
        paths = [e["path"] for e in answer["escalations"]]
    else:
        paths = [r["path"] for o in answer["outsiders"] for r in o["reaches"]]
        paths += [p["path"] for p in answer["public_resources"]]
    nodes, pairs = _expected(paths, *([args["source"], args["target"]] if kind == "path" else []))
    nodes |= {o["node"] for o in answer.get("outsiders", [])}
    _open(watched, server, **args)
    got = drawn(watched.page)
    assert set(got["arns"]) == nodes and got["edges"] == len(pairs)
    _assert_clean(watched, "http://127.0.0.1:")
