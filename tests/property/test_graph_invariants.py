"""Invariants of the graph and query layer on generated estates (hypothesis over generator seeds).

* every hop of a returned path exists in the graph;
* who-can(R, A) contains P iff a path from P ends with an access hop granting A on R;
* adding an Allow never removes a path (who-can sets and escalations only grow);
* adding an explicit Deny never adds one (they only shrink).
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.queries import Analysis, find_paths, privesc, who_can
from iamgraph.ingest import load_snapshot

GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "generate.py"
ACTIONS = ("s3:GetObject", "s3:PutObject", "kms:Decrypt", "sqs:SendMessage", "lambda:InvokeFunction")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate_inv", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


GEN = _generator()
_CACHE: dict[int, Path] = {}


def _estate(seed: int, base: Path) -> Path:
    if seed not in _CACHE:
        out = base / f"estate-{seed}"
        GEN.generate(GEN.EstateSpec(principals=40, accounts=2, resources=40, seed=seed), out, force=True)
        _CACHE[seed] = out
    return _CACHE[seed]


def _answers(a: Analysis, targets: list[tuple[str, str]]) -> tuple[dict[tuple[str, str], set[str]], set[str]]:
    who = {(r, act): {p["arn"] for p in who_can(a, r, action=act)["principals"]} for r, act in targets}
    esc = {e["principal"] for e in privesc(a)["escalations"]} | set(privesc(a)["admins"])
    return who, esc


def _targets(a: Analysis, rng: random.Random) -> list[tuple[str, str]]:
    pairs = sorted({(e.target, act) for e in a.graph.edges(EdgeKind.ACCESS) for act in e.actions if act in ACTIONS})
    return rng.sample(pairs, min(6, len(pairs)))


def _mutate(src: Path, dst: Path, rng: random.Random, effect: str) -> None:
    """Copy the estate and add one inline policy (Allow or Deny) to a random user."""
    shutil.copytree(src, dst)
    files = sorted(dst.glob("accounts/*/authorization-details.json"))
    path = rng.choice(files)
    doc: dict[str, Any] = json.loads(path.read_text())
    user = rng.choice(doc["UserDetailList"])
    action = rng.choice(["*", "s3:*", "iam:*", "kms:Decrypt", "sts:AssumeRole", "lambda:*"])
    user.setdefault("UserPolicyList", []).append(
        {
            "PolicyName": f"Added{effect}",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Sid": f"Added{effect}", "Effect": effect, "Action": action, "Resource": "*"}],
            },
        }
    )
    path.write_text(json.dumps(doc))


SETTINGS = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@SETTINGS
@given(seed=st.integers(0, 30))
def test_paths_exist_and_who_can_iff_path(seed: int, tmp_path_factory: Any) -> None:
    base = tmp_path_factory.getbasetemp()
    a = Analysis.of(load_snapshot(_estate(seed, base)))
    rng = random.Random(seed)
    for resource, action in _targets(a, rng):
        holders = {p["arn"]: p for p in who_can(a, resource, action=action)["principals"]}
        for p in holders.values():
            for hop in p["path"]:
                assert any(e.technique == hop["technique"] for e in a.graph.edges_between(hop["source"], hop["target"]))
        sample = rng.sample(sorted(a.graph.graph.nodes), min(15, len(a.graph.graph)))
        for node in sample:
            if node == resource:
                continue
            paths = find_paths(a, node, resource, all_paths=True, max_depth=8, limit=200)["paths"]
            via = any(action in p["hops"][-1]["actions"] for p in paths)
            assert via == (node in holders), (node, resource, action)


@SETTINGS
@given(seed=st.integers(0, 30), mutation=st.integers(0, 10_000))
def test_allow_never_removes_and_deny_never_adds(seed: int, mutation: int, tmp_path_factory: Any) -> None:
    base = tmp_path_factory.getbasetemp()
    original = _estate(seed, base)
    a = Analysis.of(load_snapshot(original))
    targets = _targets(a, random.Random(seed))
    who, esc = _answers(a, targets)
    for effect, grows in (("Allow", True), ("Deny", False)):
        dst = base / f"mut-{seed}-{mutation}-{effect}"
        if dst.exists():
            shutil.rmtree(dst)
        _mutate(original, dst, random.Random(mutation), effect)
        b = Analysis.of(load_snapshot(dst))
        who2, esc2 = _answers(b, targets)
        for key in targets:
            before, after = who[key], who2[key]
            assert (before <= after) if grows else (after <= before), (effect, key, before ^ after)
        assert (esc <= esc2) if grows else (esc2 <= esc), (effect, esc ^ esc2)
