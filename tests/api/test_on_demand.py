"""A server over a graph built with resource access on demand answers as over the fully built one, and says
which it is in the snapshot listing."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.ondemand import ON_DEMAND_NOTE, PRINCIPAL_ACCESS_NOTE
from iamgraph.graph.queries import Analysis
from iamgraph.ingest import load_snapshot

from .conftest import BUCKET, DEMO, SINGLE, make_app, snapshot_files, tar_gz

ACCESS = frozenset({EdgeKind.ACCESS})


def _get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_queries_and_the_listing(demo: dict[str, tuple[Analysis, float]]) -> None:
    eager = demo["demo"][0]
    lazy = Analysis.of(load_snapshot(DEMO), resource_access="on-demand")
    resources = [n for n, k in eager.graph.graph.nodes(data="kind") if k == NodeKind.RESOURCE]
    with TestClient(make_app(demo)) as a, TestClient(make_app({"demo": (lazy, 0.0)})) as b:
        listed = _get(b, "/snapshots")["snapshots"][0]
        assert listed["resource_access"] == "on-demand"
        assert _get(a, "/snapshots")["snapshots"][0]["resource_access"] == "eager"
        compared = 0
        for r in resources:
            assert _get(b, "/queries/who-can", resource=r) == _get(a, "/queries/who-can", resource=r)
            assert _get(b, "/graph/neighbourhood", node=r) == _get(a, "/graph/neighbourhood", node=r)
            assert _get(b, "/graph/node", node=r) == _get(a, "/graph/node", node=r)  # edge counts included
            for e in eager.graph.in_edges_of(r, ACCESS)[:3]:
                params = {"source": e.source, "target": r}
                assert _get(b, "/graph/edges", **params) == _get(a, "/graph/edges", **params)
                path = {"source": e.source, "target": r}
                assert _get(b, "/queries/path", **path) == _get(a, "/queries/path", **path)
                compared += 1
        assert compared > 20
        user = next(iter(eager.estate.principals))
        lazy_node, eager_node = _get(b, "/graph/node", node=user), _get(a, "/graph/node", node=user)
        assert lazy_node.pop("edges_out_note") == PRINCIPAL_ACCESS_NOTE and eager_node.get("edges_out_note") is None
        assert lazy_node["edges_in"] == eager_node["edges_in"]
        noted = _get(b, "/queries/exposure")
        assert noted.pop("resource_access") == ON_DEMAND_NOTE
        assert noted["public_resources"] == _get(a, "/queries/exposure")["public_resources"]
        assert "resource_access" not in _get(a, "/queries/exposure")


def test_uploads_are_built_as_the_setting_says(
    analyses: dict[str, tuple[Analysis, float]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    archive = tar_gz(snapshot_files(SINGLE), prefix="snap/")
    for mode in ("on-demand", "eager"):
        with TestClient(make_app(analyses, resource_access=mode)) as c:
            r = c.post(
                "/snapshots", params={"name": "up"}, content=archive, headers={"content-type": "application/gzip"}
            )
            assert r.status_code == 201, r.text
            assert r.json()["resource_access"] == mode
            who = _get(c, "/queries/who-can", resource=BUCKET, snapshot="up")
            assert who == _get(c, "/queries/who-can", resource=BUCKET, snapshot="single") and who["principals"]
