"""The explorer's review findings panel in a real browser (Debian's Chromium, headless, via Playwright)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from iamgraph.cli import app

from .conftest import DEMO, HOSTILE, Watched
from .helpers import click_edge, drawn, edge_id, wait_drawn
from .test_browser import _api, _assert_clean, _assert_inert, _open

_CLICK = '(id) => document.querySelector(`#results li[data-finding="${CSS.escape(id)}"] button`).click()'


def _select(page: Any, finding: dict[str, Any]) -> None:
    page.evaluate(_CLICK, finding["id"])
    page.locator("#details .remediation").wait_for()


def _expected(finding: dict[str, Any]) -> tuple[set[str], set[tuple[str, str]]]:
    ev = finding["evidence"]
    hops = [h for p in ev["paths"] for h in p["hops"]]
    pairs = {(h["source"], h["target"]) for h in hops}
    return set(ev["principals"]) | set(ev["resources"]) | {n for p in pairs for n in p}, pairs


def test_review_panel_lists_the_findings_and_draws_a_path(server: str, watched: Watched) -> None:
    report = _api(server, "/review", snapshot="demo", min_severity="medium")
    _open(watched, server, kind="review", snapshot="demo", min_severity="medium")
    page = watched.page
    page.locator("#results li.finding-item").first.wait_for()
    assert page.locator("#results li.finding-item").count() == report["summary"]["findings"]
    assert f"{report['summary']['findings']} findings" in page.locator("#results .summary").inner_text()
    assert page.locator("#q-min-severity").input_value() == "medium"
    assert drawn(page)["nodes"] == 0  # nothing drawn before a finding is selected

    finding = next(f for f in report["findings"] if f["check"] == "escalation-path" and len(_expected(f)[1]) >= 3)
    nodes, pairs = _expected(finding)
    _select(page, finding)
    got = drawn(page)
    assert (got["nodes"], got["edges"]) == (len(nodes), len(pairs))
    assert set(got["arns"]) == nodes and set(got["edge_ids"]) == {edge_id(s, t) for s, t in pairs}
    details = page.locator("#details")
    assert finding["remediation"] in details.locator(".remediation").inner_text()
    assert details.locator(".proof-row").count() == len(finding["evidence"]["statements"])
    assert page.locator("#results li.selected").count() == 1

    hop = finding["evidence"]["paths"][0]["hops"][0]
    click_edge(page, hop["source"], hop["target"])  # the hop's deciding statements, unchanged
    details.locator(".hop").first.wait_for()
    policies = {p["policy"] for p in hop["proof"]}
    assert policies <= set(details.locator("code.policy").all_inner_texts())

    other = next(f for f in report["findings"] if not f["evidence"]["paths"] and f["evidence"]["principals"])
    _select(page, other)
    assert drawn(page)["edges"] == 0 and drawn(page)["nodes"] == len(_expected(other)[0])
    _assert_clean(watched, "http://127.0.0.1:")


def test_hostile_finding_texts_render_as_text(server: str, watched: Watched, tmp_path: Path) -> None:
    report = _api(server, "/review", snapshot="hostile")
    assert any("<img" in f["title"] for f in report["findings"])
    _open(watched, server, kind="review", snapshot="hostile")
    page = watched.page
    page.locator("#results li.finding-item").first.wait_for()
    assert page.locator("#results li.finding-item").count() == report["summary"]["findings"]
    results = page.locator("#results").inner_text()
    for finding in report["findings"]:
        assert finding["title"] in results
        _select(page, finding)
        assert finding["title"] in page.locator("#details").inner_text()
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    _assert_inert(watched)

    out = tmp_path / "review.html"  # the standalone file of the same view: inert, offline
    r = CliRunner().invoke(app, ["viz", "review", "--data", str(HOSTILE), "-o", str(out), "--no-cache"])
    assert r.exit_code == 0, r.output
    watched.requests.clear()
    page.goto(out.as_uri())
    wait_drawn(page)
    for finding in report["findings"]:
        _select(page, finding)
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    _assert_inert(watched)
    assert watched.requests == [out.as_uri()]


def test_review_evidence_file_draws_a_finding_offline(watched: Watched, tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    args = ["viz", "review", "--data", str(DEMO), "-o", str(out), "--no-cache", "--min-severity", "critical"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    page = watched.page
    page.goto(out.as_uri())
    wait_drawn(page)
    items = page.locator("#results li.finding-item")
    items.first.wait_for()
    finding = page.evaluate("window.iamgraph.state.items.map((i) => i.finding).find((f) => f.evidence.paths.length)")
    nodes, pairs = _expected(finding)
    _select(page, finding)
    assert (drawn(page)["nodes"], drawn(page)["edges"]) == (len(nodes), len(pairs))
    assert "critical" in page.locator("#finding").inner_text()
    assert watched.requests == [out.as_uri()] and watched.errors == []
