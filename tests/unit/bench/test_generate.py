"""bench/generate.py: a small generated estate loads, builds, and has the counts the generator reports."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.build import build_graph
from iamgraph.graph.model import NodeKind
from iamgraph.ingest import load_snapshot
from iamgraph.model.snapshot import Snapshot

GENERATOR = Path(__file__).resolve().parents[3] / "bench" / "generate.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class body runs
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("estate")
    stats = gen.generate(gen.EstateSpec(principals=100, accounts=2, resources=40, seed=7), out)
    return out, stats


@pytest.fixture(scope="module")
def snapshot(estate: tuple[Path, dict[str, object]]) -> Snapshot:
    return load_snapshot(estate[0])


def test_counts_match_the_loaded_snapshot(estate: tuple[Path, dict[str, object]], snapshot: Snapshot) -> None:
    _, stats = estate
    snap = snapshot
    assert stats["principals"] == 100
    assert len(snap.accounts) == stats["accounts"] == 2
    assert sum(len(a.users) for a in snap.accounts.values()) == stats["users"]
    assert sum(len(a.roles) for a in snap.accounts.values()) == stats["roles"]
    assert sum(len(a.groups) for a in snap.accounts.values()) == stats["groups"]
    assert sum(len(a.resources) for a in snap.accounts.values()) == stats["resources"] == 40
    custom = sum(1 for a in snap.accounts.values() for p in a.managed_policies.values() if not p.aws_managed)
    assert custom == stats["customer_policies"]
    assert any(p.other_versions for a in snap.accounts.values() for p in a.managed_policies.values())
    assert any(u.boundary is not None for a in snap.accounts.values() for u in [*a.users.values(), *a.roles.values()])
    assert all(a.credential_report for a in snap.accounts.values())
    org = snap.organization
    assert org is not None
    types = {p.type.value for p in org.policies.values()}
    assert types == {"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"}
    assert stats["escalation_grants"] > 0
    assert not snap.warnings


def test_graph_builds_with_the_generated_principals(estate: tuple[Path, dict[str, object]], snapshot: Snapshot) -> None:
    _, stats = estate
    snap = snapshot
    g = build_graph(snap)
    nodes = g.node_counts()
    assert nodes[NodeKind.USER.value] == stats["users"]
    assert nodes[NodeKind.ROLE.value] == stats["roles"]
    assert nodes[NodeKind.GROUP.value] == stats["groups"]
    assert nodes[NodeKind.RESOURCE.value] >= stats["resources"]
    members = sum(len(u.group_arns) for a in snap.accounts.values() for u in a.users.values())
    edges = g.edge_counts()
    assert edges.get(EdgeKind.MEMBER.value, 0) == members > 0
    assumes = list(g.edges(EdgeKind.ASSUME))
    assert {e.technique for e in assumes} >= {"sts:AssumeRole"}
    assert any(e.conditional for e in assumes)  # MFA / ExternalId / PrincipalOrgID trusts
    assert any(":root" not in e.source and e.source.split(":")[4] != e.target.split(":")[4] for e in assumes)
    assert g.admins()


def test_same_seed_same_bytes_and_single_account(tmp_path: Path) -> None:
    spec = gen.EstateSpec(principals=30, resources=20, seed=3, single_account=True)
    a, b = tmp_path / "a", tmp_path / "b"
    gen.generate(spec, a)
    gen.generate(spec, b)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert not (a / "organization.json").exists()
    (account,) = (a / "accounts").iterdir()
    details = json.loads((account / "authorization-details.json").read_text())
    assert len(details["UserDetailList"]) + len(details["RoleDetailList"]) == 30
    snap = load_snapshot(a)
    assert snap.organization is None and len(snap.accounts) == 1
    with pytest.raises(FileExistsError):
        gen.generate(spec, a)
