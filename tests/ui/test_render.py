"""Without a browser: the view of a query, the network pyvis builds from it, the styles table, the pages."""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import re
from typing import Any

import pytest

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries import Analysis, WhatIf, neighbourhood, who_can
from iamgraph.ingest import load_snapshot
from ui.page import SERVED_CSP, asset, explorer_page, script_json, standalone_page
from ui.render import edge_id, network, node_id
from ui.styles import ADMIN, EDGE_STYLES, NODE_STYLES, edge_style, legend, node_style, strongest_kind
from ui.text import condition_text, conditions_text
from ui.view import ViewQuery, build_view

from .conftest import DEMO, DEPLOY, DEPLOY_SID, GET_SECRET, HOSTILE, SECRET


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return Analysis.of(load_snapshot(DEMO))


@pytest.fixture(scope="module")
def hostile() -> Analysis:
    return Analysis.of(load_snapshot(HOSTILE))


def _who_can(analysis: Analysis, **kw: Any) -> dict[str, Any]:
    return build_view(analysis, ViewQuery(kind="who-can", resource=SECRET, action=GET_SECRET, **kw))


# ---- styles ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(NodeKind), ids=str)
def test_every_node_kind_has_its_style(kind: NodeKind) -> None:
    assert node_style(kind.value).key == kind.value


@pytest.mark.parametrize("kind", list(EdgeKind), ids=str)
def test_every_edge_kind_has_its_style(kind: EdgeKind) -> None:
    assert edge_style(kind.value).key == kind.value


def test_resources_are_styled_by_type() -> None:
    assert node_style("resource", "AWS::S3::Bucket").key == "resource:AWS::S3::Bucket"
    assert node_style("resource", "AWS::Unheard::Of").key == "resource"
    assert strongest_kind(["member", "access", "escalate", "assume"]) == "escalate"
    assert len({s.key for s in NODE_STYLES}) == len(NODE_STYLES)


def test_the_legend_is_generated_from_the_table() -> None:
    listed = [s.key for _, styles in legend()["sections"] for s in styles]
    assert sorted(listed) == sorted(s.key for s in NODE_STYLES)
    page = explorer_page()
    for s in NODE_STYLES:
        assert f'data-style="{s.key}"' in page and s.label in page
        assert f'fill="{s.background}" stroke="{s.border}"' in page
    for e in EDGE_STYLES:
        assert f'data-edge="{e.key}"' in page and f'stroke="{e.color}"' in page


# ---- the view and its network ---------------------------------------------------------------------------


def test_who_can_view_draws_the_query_answer(demo: Analysis) -> None:
    answer = who_can(demo, SECRET, action=GET_SECRET)
    view = _who_can(demo)
    hops = [h for p in answer["principals"] for h in p["path"]]
    assert {n["id"] for n in view["nodes"]} == {SECRET} | {h["source"] for h in hops} | {h["target"] for h in hops}
    assert {(e["source"], e["target"]) for e in view["edges"]} == {(h["source"], h["target"]) for h in hops}
    drawn = {(e["source"], e["target"], json.dumps(h["proof"])) for e in view["edges"] for h in e["hops"]}
    assert all((h["source"], h["target"], json.dumps(h["proof"])) in drawn for h in hops)  # proof unchanged
    assert [i["label"] for i in view["items"]] == [p["arn"] for p in answer["principals"]]
    assert view["total_items"] == len(answer["principals"]) and view["more"] == []
    assert next(n for n in view["nodes"] if n["id"] == SECRET)["emphasis"] == "target"
    deploy = next(e for e in view["edges"] if (e["source"], e["target"]) == (DEPLOY, SECRET))
    assert DEPLOY_SID in {p["sid"] for h in deploy["hops"] for p in h["proof"]}
    statement = next(s for s in view["statements"] if s["sid"] == DEPLOY_SID)
    assert statement["layer"] == "resource" and statement["policy"] == SECRET
    assert statement["statement"]["Sid"] == DEPLOY_SID and GET_SECRET in json.dumps(statement["statement"])


def test_network_follows_the_styles_table(demo: Analysis) -> None:
    view = _who_can(demo)
    net = network(view)
    assert len(net["nodes"]) == len(view["nodes"]) and len(net["edges"]) == len(view["edges"])
    info = {n["id"]: n for n in view["nodes"]}
    for vis in net["nodes"]:
        node = info[vis["arn"]]
        style = node_style(node["kind"], node["resource_type"])
        assert vis["id"] == node_id(node["id"]) and vis["shape"] == style.shape
        assert vis["color"]["background"] == style.background
        assert vis["color"]["border"] == (ADMIN.border if node["admin"] else style.border)
        assert vis["title"].startswith(node["id"])
    hops = {(e["source"], e["target"]): e["hops"] for e in view["edges"]}
    for vis in net["edges"]:
        pair_hops = hops[(vis["fromArn"], vis["toArn"])]
        assert vis["id"] == edge_id(vis["fromArn"], vis["toArn"])
        assert bool(vis["dashes"]) == all(h["conditions"] for h in pair_hops)
        assert vis["color"]["color"] == edge_style(strongest_kind([h["kind"] for h in pair_hops])).color
        for h in pair_hops:
            if h["conditions"]:
                assert "only if" in vis["title"] and h["technique"] in vis["title"]
    layout = net["options"]["layout"]["hierarchical"]
    assert layout["enabled"] and layout["direction"] == "LR" and net["options"]["physics"]["enabled"] is False


def test_a_capped_answer_says_how_many_more(demo: Analysis) -> None:
    total = len(who_can(demo, SECRET, action=GET_SECRET)["principals"])
    view = _who_can(demo, limit=5)
    assert len(view["items"]) == 5 and view["total_items"] == total
    assert view["more"] == [{"anchor": SECRET, "count": total - 5, "what": "principals", "incoming": True}]
    net = network(view)
    more = [n for n in net["nodes"] if n.get("styleKey") == "more"]
    assert [m["label"] for m in more] == [f"+{total - 5} more principals"]
    assert any(e["from"] == more[0]["id"] and e["to"] == node_id(SECRET) for e in net["edges"])


def test_a_capped_neighbourhood_counts_the_hidden_neighbours(demo: Analysis) -> None:
    full = neighbourhood(demo, DEPLOY, depth=1, limit=1000)
    view = build_view(demo, ViewQuery(kind="neighbourhood", node=DEPLOY, limit=4))
    assert len(view["nodes"]) == 4
    assert view["more"] == [{"anchor": DEPLOY, "count": len(full["nodes"]) - 4, "what": "neighbours", "incoming": True}]


def test_the_whatif_changes_the_view(demo: Analysis) -> None:
    mfa = WhatIf({"aws:MultiFactorAuthPresent": "false"})
    plain, without = _who_can(demo), _who_can(demo, whatif=mfa)
    assert len(without["nodes"]) < len(plain["nodes"])
    assert without["query"]["context"] == {"aws:MultiFactorAuthPresent": "false"}


@pytest.mark.parametrize("kind", ["path", "privesc", "exposure"])
def test_every_query_kind_builds(demo: Analysis, kind: str) -> None:
    q = ViewQuery(kind=kind, source="dev-alice", target="nightly-maintenance-role", all_paths=True)
    view = build_view(demo, q)
    net = network(view)
    anchored = sum(m["anchor"] is not None for m in view["more"])  # each drawn as an "N more" node with its edge
    assert view["items"] and len(net["nodes"]) == len(view["nodes"]) + anchored
    assert len(net["edges"]) == len(view["edges"]) + anchored
    assert len(view["items"]) + sum(m["count"] or 0 for m in view["more"]) == view["total_items"]
    assert view["layout"] == ("sources" if kind == "exposure" else "targets")


def test_condition_text() -> None:
    atom = {"condition": {"operator": "Bool", "key": "aws:MultiFactorAuthPresent", "values": ["true"]}}
    ip = {"condition": {"operator": "IpAddress", "key": "aws:SourceIp", "values": ["10.0.0.0/8", "::1"]}}
    assert condition_text(atom) == "aws:MultiFactorAuthPresent Bool true"
    assert condition_text({"not": ip}) == "not aws:SourceIp IpAddress [10.0.0.0/8, ::1]"
    assert condition_text({"all": [atom, {"any": [ip, atom]}]}) == (
        "aws:MultiFactorAuthPresent Bool true and (aws:SourceIp IpAddress [10.0.0.0/8, ::1] or "
        "aws:MultiFactorAuthPresent Bool true)"
    )
    assert conditions_text([]) == ""


@pytest.mark.parametrize(
    ("operator", "key", "text"),
    [
        ("NotIpAddress", "aws:SourceIp", "aws:SourceIp IpAddress 203.0.113.0/24"),
        ("StringNotEqualsIfExists", "aws:RequestedRegion", "aws:RequestedRegion StringEquals 203.0.113.0/24"),
        ("ArnNotLike", "aws:PrincipalArn", "aws:PrincipalArn ArnLike 203.0.113.0/24"),
        (
            "StringNotEquals",
            "token.actions.githubusercontent.com:sub",
            "token.actions.githubusercontent.com:sub StringEquals 203.0.113.0/24",
        ),
        # left as they are: a multivalued key, a set operator, an unknown key, a Bool
        ("StringNotEquals", "aws:TagKeys", "not aws:TagKeys StringNotEquals 203.0.113.0/24"),
        ("ForAnyValue:StringNotEquals", "aws:SourceIp", "not aws:SourceIp ForAnyValue:StringNotEquals 203.0.113.0/24"),
        ("StringNotEquals", "s3:prefix", "not s3:prefix StringNotEquals 203.0.113.0/24"),
        ("Bool", "aws:SecureTransport", "not aws:SecureTransport Bool 203.0.113.0/24"),
    ],
)
def test_condition_text_reads_a_double_negative_as_positive_where_exact(operator: str, key: str, text: str) -> None:
    negated = {"not": {"condition": {"operator": operator, "key": key, "values": ["203.0.113.0/24"]}}}
    assert condition_text(negated) == text


# ---- pages ------------------------------------------------------------------------------------------------


def test_script_json_cannot_close_its_block() -> None:
    value = {"a": "</script><script>alert(1)</script>", "b": "x & y <!-- z -->", "c": "line\u2028sep\u2029end"}
    text = script_json(value)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == value


def _inline(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_standalone_page_allows_exactly_its_inline_scripts(hostile: Analysis) -> None:
    view = build_view(hostile, ViewQuery(kind="who-can", resource="hostile-reports"))
    html = standalone_page({"view": view, "network": network(view)})
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp is not None
    policy = html_lib.unescape(csp.group(1))
    scripts, styles = _inline(html, "script"), _inline(html, "style")
    assert len(scripts) == 2 and len(styles) == 1
    assert policy.startswith("default-src 'none'; script-src ") and "unsafe" not in policy
    assert all(_sha(s) in policy for s in scripts) and all(_sha(s) in policy for s in styles)
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)  # nothing to fetch: no network request
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="icon" href="data:,">']  # no favicon request either
    data = re.search(r'<script type="application/json" id="iamgraph-boot">(.*?)</script>', html, flags=re.S)
    assert data is not None and json.loads(data.group(1))["view"]["title"] == view["title"]
    for payload in ("<img src=x onerror", "</script><script>window.__pwned", "<svg onload"):
        assert payload not in html  # escaped in the JSON block (\u003c...), never raw


def test_served_page_runs_no_inline_script() -> None:
    html = explorer_page()
    assert _inline(html, "script") == []
    assert re.findall(r'<script src="([^"]+)"></script>', html) == [
        "ui/static/vis-network.min.js",
        "ui/static/explorer.js",
    ]
    assert "script-src 'self';" in SERVED_CSP and "unsafe" not in SERVED_CSP


def test_the_script_never_builds_markup_from_data() -> None:
    js = asset("explorer.js")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js
    assert "textContent" in js
