"""Resource access on demand (``build_graph(resource_access="on-demand")``): every query that reads access
edges onto a resource answers exactly as on the fully built graph, edge for edge, proof, conditions and
order included; what a graph without the principals' access edges cannot do is refused or said."""

from __future__ import annotations

import json
import pickle
import random
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import iamgraph.graph.ondemand as ondemand
from iamgraph.cli import app
from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.export import to_cypher, to_graphml, to_json
from iamgraph.graph.build import build_graph, summary
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries import (
    Analysis,
    AssumeUnknown,
    WhatIf,
    can,
    diff,
    exposure,
    find_paths,
    privesc,
    who_can,
)
from iamgraph.ingest import load_snapshot
from iamgraph.review import review
from iamgraph.store import load_analysis
from iamgraph.store.neo4j_rows import build_rows
from ui.view import ViewQuery, build_view

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "fixtures" / "demo-org"
SINGLE = ROOT / "fixtures" / "small" / "single-account"
GENERATOR = ROOT / "bench" / "generate.py"
ACCESS = frozenset({EdgeKind.ACCESS})
ACTIONS = ("s3:GetObject", "s3:PutObject", "kms:Decrypt", "sqs:SendMessage", "lambda:InvokeFunction")


def _pair(path: Path) -> tuple[Analysis, Analysis]:
    eager = Analysis.of(load_snapshot(path), resource_access="eager")
    return eager, Analysis.of(load_snapshot(path), resource_access="on-demand")


def _text(x: Any) -> str:
    return json.dumps(x, sort_keys=True, default=str)


def _edges(edges: list[DerivedEdge]) -> list[str]:
    return [_text(e.to_json()) for e in edges]


def _resources(a: Analysis) -> list[str]:
    return [n for n, kind in a.graph.graph.nodes(data="kind") if kind == NodeKind.RESOURCE]


def _same_access(eager: Analysis, lazy: Analysis) -> int:
    """Every resource's access in-edges, and each pair's edges, the same in the same order; returns how many
    access edges were compared."""
    assert list(eager.graph.graph.nodes) == list(lazy.graph.graph.nodes)  # outsiders' nodes made in place
    compared = 0
    for r in _resources(eager):
        before = eager.graph.in_edges_of(r, ACCESS)
        assert _edges(lazy.graph.in_edges_of(r, ACCESS)) == _edges(before), r
        for source in {e.source for e in before}:
            assert _edges(lazy.graph.edges_between(source, r)) == _edges(eager.graph.edges_between(source, r))
        assert lazy.graph.node_edge_counts(r)[0] == eager.graph.node_edge_counts(r)[0]
        compared += len(before)
    return compared


def _estate(tmp: Path, seed: int, principals: int = 60, accounts: int = 3) -> Path:
    out = tmp / f"estate-{seed}-{principals}-{accounts}"
    if not out.exists():
        sizes = ["--principals", str(principals), "--accounts", str(accounts), "--resources", str(principals)]
        args = [*sizes, "--seed", str(seed), "--out", str(out)]
        subprocess.run([sys.executable, str(GENERATOR), *args], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("fixture", [DEMO, SINGLE, ROOT / "fixtures" / "hostile"], ids=lambda p: p.name)
def test_access_edges_onto_every_resource_are_the_built_ones(fixture: Path) -> None:
    eager, lazy = _pair(fixture)
    outsiders = [e for e in eager.graph.edges(EdgeKind.ACCESS) if e.source not in eager.estate.principals]
    assert _edges(list(lazy.graph.edges(EdgeKind.ACCESS))) == _edges(outsiders)  # what the graph itself holds
    made = lazy.graph.on_demand
    assert isinstance(made, ondemand.OnDemandAccess)
    for e in outsiders:  # an outsider's edges are looked up without making the resource's
        before = made.computed
        assert _edges(lazy.graph.edges_between(e.source, e.target)) == _edges(
            eager.graph.edges_between(e.source, e.target)
        )
        assert made.computed == before
    assert _same_access(eager, lazy) > (0 if fixture.name == "hostile" else 10)
    for kind in EdgeKind:
        if kind is not EdgeKind.ACCESS:
            assert _edges(list(lazy.graph.edges(kind))) == _edges(list(eager.graph.edges(kind)))
    assert lazy.graph.admins() == eager.graph.admins()


def test_queries_on_the_demo_organization_answer_the_same() -> None:
    eager, lazy = _pair(DEMO)
    rng = random.Random(5)
    principals = sorted(eager.estate.principals)
    for r in _resources(eager):
        assert _text(who_can(lazy, r)) == _text(who_can(eager, r))
        for whatif in WHAT_IFS:
            assert _text(who_can(lazy, r, whatif=whatif)) == _text(who_can(eager, r, whatif=whatif))
        for level in ("Read", "Write", "Permissions management"):
            assert _text(who_can(lazy, r, access_level=level)) == _text(who_can(eager, r, access_level=level))
        actions = sorted({a for e in eager.graph.in_edges_of(r, ACCESS) for a in e.actions})
        for action in rng.sample(actions, min(3, len(actions))):
            assert _text(who_can(lazy, r, action=action)) == _text(who_can(eager, r, action=action))
            for p in rng.sample(principals, 4):
                assert _text(can(lazy, p, r, action)) == _text(can(eager, p, r, action))
        for p in rng.sample(principals, 4):
            for every in (False, True):
                kw: dict[str, Any] = {"all_paths": every, "max_depth": 6, "limit": 50}
                assert _text(find_paths(lazy, p, r, **kw)) == _text(find_paths(eager, p, r, **kw))
    assert _text(privesc(lazy)) == _text(privesc(eager))
    outside_lazy, outside_eager = exposure(lazy), exposure(eager)
    assert outside_lazy.pop("resource_access") == ondemand.ON_DEMAND_NOTE  # says what it leaves out
    assert "resource_access" not in outside_eager
    assert _text(outside_lazy["public_resources"]) == _text(outside_eager["public_resources"])
    assert _text(outside_lazy["findings"]) == _text(outside_eager["findings"])
    assert [o["node"] for o in outside_lazy["outsiders"]] == [o["node"] for o in outside_eager["outsiders"]]
    assert _text(review(lazy).to_json()) == _text(review(eager).to_json())
    for r in _resources(eager):  # the UI's views: a small limit leaves neighbours out, and counts them
        for query in (ViewQuery(kind="neighbourhood", node=r, limit=3), ViewQuery(kind="who-can", resource=r, limit=5)):
            assert _text(_principal_out_access(_view(lazy, query), eager)) == _text(_view(eager, query))
    assert _text(_view(lazy, ViewQuery(kind="exposure"))) != _text(_view(eager, ViewQuery(kind="exposure")))


def _view(analysis: Analysis, query: ViewQuery) -> dict[str, Any]:
    """The view without the time it was made at (two views made a second apart are the same answer)."""
    view = build_view(analysis, query)
    at = view["generated"].pop("at")
    assert datetime.fromisoformat(at).tzinfo is not None
    return view


WHAT_IFS = (
    WhatIf({}, AssumeUnknown.DENY),
    WhatIf({}, AssumeUnknown.ALLOW),
    WhatIf({"aws:MultiFactorAuthPresent": "true", "aws:SourceIp": "203.0.113.7"}),
)


def _principal_out_access(view: dict[str, Any], eager: Analysis) -> dict[str, Any]:
    """The view of an on-demand graph as the full graph's would be, but for the principals' access edges
    going out (not made, so not counted: the node details say so): those counts put back from the full
    graph, the note taken away."""
    for node in view["nodes"]:
        details = node["details"]
        if "edges_out_note" in details:
            assert details.pop("edges_out_note") == ondemand.PRINCIPAL_ACCESS_NOTE
            assert node["kind"] in ("user", "role", "account") and "access" not in details["edges_out"]
            details["edges_out"] = dict(sorted(eager.graph.node_edge_counts(node["id"])[1].items()))
    return view


SETTINGS = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@SETTINGS
@given(seed=st.integers(0, 50))
def test_generated_estates_answer_the_same(seed: int, tmp_path_factory: Any) -> None:
    """Multi-account generated estates (cross-account grants, organisation-wide and public policies)."""
    eager, lazy = _pair(_estate(tmp_path_factory.getbasetemp(), seed))
    assert _same_access(eager, lazy) > 100
    rng = random.Random(seed)
    targets = sorted({(e.target, a) for e in eager.graph.edges(EdgeKind.ACCESS) for a in e.actions if a in ACTIONS})
    nodes = sorted(eager.graph.graph.nodes)
    for r, action in rng.sample(targets, min(8, len(targets))):
        assert _text(who_can(lazy, r, action=action)) == _text(who_can(eager, r, action=action))
        for node in rng.sample(nodes, 5):
            if node != r:
                kw: dict[str, Any] = {"all_paths": True, "max_depth": 6, "limit": 40}
                assert _text(find_paths(lazy, node, r, **kw)) == _text(find_paths(eager, node, r, **kw))


def test_the_memos_start_afresh_without_changing_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long-lived server bounds what on-demand access keeps: the resources' edges (``EDGES_KEPT``) and the
    evaluation memos (``MEMO_LIMIT``); answers made after either was emptied are the same."""
    monkeypatch.setattr(ondemand, "EDGES_KEPT", 40)
    monkeypatch.setattr(ondemand, "MEMO_LIMIT", 0)
    eager, lazy = _pair(_estate(tmp_path, 3))
    made = lazy.graph.on_demand
    assert isinstance(made, ondemand.OnDemandAccess)
    largest = max(len(eager.graph.in_edges_of(r, ACCESS)) for r in _resources(eager))
    for _ in range(2):  # the second time round, every resource is made again
        _same_access(eager, lazy)
        assert 0 < made._kept <= max(40, largest) and made._kept == sum(len(m[0]) for m in made._memo.values())
    assert made.computed > 2 * len(_resources(eager)) - 10


def test_pickled_and_cached_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    lazy = load_analysis(DEMO, resource_access="on-demand")
    assert load_analysis(DEMO).graph.on_demand is not None  # auto takes the graph cached either way
    eager = load_analysis(DEMO, resource_access="eager")
    names = sorted(f.name for f in (tmp_path / "cache").rglob("*.pickle"))
    assert len(names) == 2 and sum(n.endswith("-on-demand.pickle") for n in names) == 1
    again = load_analysis(DEMO, resource_access="on-demand")  # from the cache
    assert again.graph.on_demand is not None and again is not lazy
    assert load_analysis(DEMO).graph.on_demand is None  # auto: the complete graph first
    monkeypatch.setenv("IAMGRAPH_RESOURCE_ACCESS", "on-demand")
    assert load_analysis(DEMO).graph.on_demand is not None  # the environment's choice
    _same_access(eager, again)
    copy = pickle.loads(pickle.dumps(lazy))
    made = copy.graph.on_demand
    assert isinstance(made, ondemand.OnDemandAccess) and made.estate is copy.estate  # one estate, pickled once
    _same_access(eager, copy)


def test_what_needs_every_edge_is_refused_or_says_so(tmp_path: Path) -> None:
    eager, lazy = _pair(DEMO)
    for write in (to_json, to_graphml, to_cypher):
        with pytest.raises(InputError, match="resource access on demand"):
            write(lazy.graph)
    with pytest.raises(InputError, match="resource access on demand"):
        build_rows(lazy)
    with pytest.raises(InputError, match="the other was not"):
        diff(eager, lazy)
    both = diff(lazy, Analysis.of(load_snapshot(DEMO), resource_access="on-demand"))
    assert both["resource_access"] == ondemand.ON_DEMAND_NOTE and not both["edges_gained"]
    assert summary(lazy.graph)["resource_access"] == "on-demand"
    assert summary(eager.graph)["resource_access"] == "eager"
    with pytest.raises(InputError, match="not one of auto, eager, on-demand"):
        build_graph(load_snapshot(DEMO), resource_access="lazy")


def test_auto_builds_on_demand_above_its_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = load_snapshot(DEMO)
    principals = sum(len(a.users) + len(a.roles) for a in snapshot.accounts.values())
    assert build_graph(snapshot).on_demand is None  # 46 principals
    monkeypatch.setattr(ondemand, "AUTO_PRINCIPALS", principals - 1)
    assert build_graph(snapshot).on_demand is not None
    assert build_graph(snapshot, resource_access="eager").on_demand is None
    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    assert load_analysis(DEMO).graph.on_demand is not None  # auto: built on demand, cached as such
    assert load_analysis(DEMO, resource_access="eager").graph.on_demand is None
    assert load_analysis(DEMO).graph.on_demand is None  # auto takes the complete graph once it is cached
    assert len(list((tmp_path / "cache").rglob("*.pickle"))) == 2
    monkeypatch.setattr(ondemand, "AUTO_PRINCIPALS", principals)
    assert build_graph(snapshot).on_demand is None


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    built = runner.invoke(app, ["graph", "build", str(DEMO), "--resource-access", "on-demand", "--json"])
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["resource_access"] == "on-demand"
    text = runner.invoke(app, ["graph", "build", str(DEMO), "--resource-access", "on-demand"])
    assert "resource access: on demand" in text.stdout
    bad = runner.invoke(app, ["graph", "build", str(DEMO), "--resource-access", "lazy"])
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "--resource-access" in bad.stderr
    bucket = "arn:aws:s3:::finance-reports"
    eager = runner.invoke(app, ["who-can", bucket, "--data", str(DEMO), "--json"])
    monkeypatch.setenv("IAMGRAPH_RESOURCE_ACCESS", "on-demand")
    lazy = runner.invoke(app, ["who-can", bucket, "--data", str(DEMO), "--json"])
    assert lazy.exit_code == eager.exit_code == 0, lazy.output
    assert json.loads(lazy.stdout) == json.loads(eager.stdout) and json.loads(lazy.stdout)["principals"]
    refused = runner.invoke(app, ["export", "--data", str(DEMO), "--format", "json"])
    assert refused.exit_code == 2 and "resource access on demand" in refused.stderr
    neo4j = ["neo4j", "load", "--data", str(DEMO), "--uri", "bolt://127.0.0.1:1"]  # refused before connecting
    refused = runner.invoke(app, neo4j)
    assert refused.exit_code == 2 and "Neo4j load: the graph was built with resource access on demand" in refused.stderr
    monkeypatch.delenv("IAMGRAPH_RESOURCE_ACCESS")
    monkeypatch.setattr(ondemand, "AUTO_PRINCIPALS", 1)  # auto would build on demand ...
    assert runner.invoke(app, ["who-can", bucket, "--data", str(DEMO), "--json"]).exit_code == 0
    exported = runner.invoke(app, ["export", "--data", str(DEMO), "--format", "json"])  # ... export builds whole
    assert exported.exit_code == 0, exported.output
    kinds = [e["kind"] for e in json.loads(exported.stdout)["edges"]]
    assert kinds.count("access") == sum(1 for _ in _pair(DEMO)[0].graph.edges(EdgeKind.ACCESS))
