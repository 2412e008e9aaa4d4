"""Alternative techniques for one (source, role) pair (``Alternatives``): once a conditional edge is kept,
takeover and PassRole make a later alternative's edge only when it is unconditional. The graph must be the
one of making every alternative's edge and letting ``Alternatives.keep`` turn the conditional ones away."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.edges.techniques._edges import Alternatives
from iamgraph.export import to_json
from iamgraph.graph.build import build_graph
from iamgraph.ingest import load_snapshot

from .estate_builder import ACCOUNT, Account, allow, arn, demo_or_generated, graph, one, trust_service

ATTACKER = arn("user", "attacker")
ROLE = arn("role", "runner")
FUNCTION = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders"
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


@pytest.mark.parametrize("seed", [None, 1, 7, 13])
def test_skipping_conditional_alternatives_changes_no_edge(
    seed: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = demo_or_generated(tmp_path, seed, principals=120, accounts=2, resources=200)
    held = 0
    holds = Alternatives.holds

    def counted(self: Alternatives, source: str, target: str) -> bool:
        nonlocal held
        found = holds(self, source, target)
        held += found
        return found

    with monkeypatch.context() as m:
        m.setattr(Alternatives, "holds", counted)
        shortcut = to_json(build_graph(load_snapshot(path), resource_access="eager"))
    with monkeypatch.context() as m:
        m.setattr(Alternatives, "holds", lambda self, source, target: False)  # every alternative's edge made
        every = to_json(build_graph(load_snapshot(path), resource_access="eager"))
    assert shortcut == every
    if seed is not None:
        assert held > 0  # the shortcut was taken: the comparison means something


def test_takeover_keeps_a_later_unconditional_alternative(tmp_path: Path) -> None:
    """Invoking the function needs MFA, updating its code does not: the update-and-invoke edge is kept under
    MFA, and the update-alone edge (the code runs when the triggers fire) is kept too, unconditional."""
    a = Account()
    a.user("attacker", allow("lambda:UpdateFunctionCode", FUNCTION), allow("lambda:InvokeFunction", Condition=MFA))
    a.role("runner", trust_service("lambda.amazonaws.com"))
    a.resource(FUNCTION, "AWS::Lambda::Function", ROLE)
    g = graph(tmp_path, a)
    assert one(g, ATTACKER, ROLE, "lambda:UpdateFunctionCode+lambda:InvokeFunction").conditional
    assert not one(g, ATTACKER, ROLE, "lambda:UpdateFunctionCode").conditional


def test_passrole_keeps_a_later_unconditional_alternative(tmp_path: Path) -> None:
    a = Account()
    plain = ["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"]
    a.user("attacker", allow(plain), allow("lambda:InvokeFunction", Condition=MFA))
    a.role("runner", trust_service("lambda.amazonaws.com"))
    g = graph(tmp_path, a)
    assert one(g, ATTACKER, ROLE, "iam:PassRole+lambda:CreateFunction+lambda:InvokeFunction").conditional
    assert not one(g, ATTACKER, ROLE, "iam:PassRole+lambda:CreateFunction+lambda:CreateEventSourceMapping").conditional
