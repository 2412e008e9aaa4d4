"""The escalation techniques' decisions (``Decider``) kept per class of principals the engine cannot tell
apart (``Decider._who``: ``SharedDecisions.caller_in`` where no resource policy names the action), not per
principal. The graph must be the one of keeping them per principal."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.edges.techniques._decide import Decider
from iamgraph.export import to_json
from iamgraph.graph.build import build_graph
from iamgraph.graph.estate import PrincipalEntry
from iamgraph.ingest import load_snapshot

from .estate_builder import Account, allow, arn, doc, generated, graph, none, one, trust_service

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("seed", [None, 2, 9])
def test_class_decisions_equal_each_principal_s_own(
    seed: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = (
        ROOT / "fixtures" / "demo-org"
        if seed is None
        else generated(tmp_path, seed, principals=150, accounts=3, resources=300)
    )
    shared = 0
    who = Decider._who

    def counted(self: Decider, p: PrincipalEntry, action: str, resource: str) -> object:
        nonlocal shared
        found = who(self, p, action, resource)
        shared += found != p.arn
        return found

    with monkeypatch.context() as m:
        m.setattr(Decider, "_who", counted)
        classes = to_json(build_graph(load_snapshot(path), resource_access="eager"))
    with monkeypatch.context() as m:
        m.setattr(Decider, "_who", lambda self, p, action, resource: p.arn)  # every principal on its own
        alone = to_json(build_graph(load_snapshot(path), resource_access="eager"))
    assert classes == alone
    assert shared > 0  # decisions were kept per class: the comparison means something


def test_a_condition_on_the_principal_keeps_passrole_decisions_apart(tmp_path: Path) -> None:
    """Two users with one policy allowing PassRole only to the team tagged "build": the same request by the
    other user is not the same decision."""
    a = Account()
    tagged = {"StringEquals": {"aws:PrincipalTag/team": "build"}}
    shared = a.managed(
        "builder",
        doc(allow("iam:PassRole", Condition=tagged), allow(["lambda:CreateFunction", "lambda:InvokeFunction"])),
    )
    for name, team in (("alice", "sales"), ("bob", "build")):
        a.user(name, managed=(shared,))
        a.users[-1]["Tags"] = [{"Key": "team", "Value": team}]
    role = a.role("runner", trust_service("lambda.amazonaws.com"))
    g = graph(tmp_path, a)
    technique = "iam:PassRole+lambda:CreateFunction+lambda:InvokeFunction"
    none(g, arn("user", "alice"), role, technique)
    one(g, arn("user", "bob"), role, technique)
