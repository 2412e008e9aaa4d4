"""privesc and who-can report an unconditional path whenever one exists, even when a conditional one is shorter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.graph.queries import privesc, who_can
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.model.policy import ConditionClause, Effect, PolicyKind, StatementRef
from iamgraph.policy.logic import Atom

REF = StatementRef(policy="p", layer=PolicyKind.TRUST, index=0, sid=None, effect=Effect.ALLOW)
MFA = Atom(
    source=REF,
    clause=ConditionClause(
        operator="Bool",
        base="Bool",
        qualifier=None,
        if_exists=False,
        key="aws:MultiFactorAuthPresent",
        values=("true",),
    ),
    reason="value of aws:MultiFactorAuthPresent is not known",
)
ACCOUNT = "111122223333"


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


@dataclass
class View:
    graph: AccessGraph

    def resolve(self, ref: str, *, what: str = "") -> str:
        return ref


def view(edges: list[tuple[str, str, EdgeKind, bool]], admins: set[str]) -> Any:
    """A QueryView over just these edges (privesc reads only the graph)."""
    g = AccessGraph()
    for name in {n for s, t, _, _ in edges for n in (s, t)}:
        g.add_node(arn(name), NodeKind.ROLE, name=name, account=ACCOUNT, admin=name in admins)
    for s, t, kind, conditional in edges:
        g.add_edge(
            DerivedEdge(
                source=arn(s),
                target=arn(t),
                kind=kind,
                technique="sts:AssumeRole",
                conditions=MFA if conditional else True,
            )
        )
    return View(g)


def escalation(result: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [e for e in result["escalations"] if e["principal"] == arn(name)]
    return found  # type: ignore[no-any-return]


def test_unconditional_longer_path_beats_a_shorter_conditional_one() -> None:
    # dev -(MFA)-> admin directly, and dev -> ops -> admin without conditions
    v = view(
        [
            ("dev", "admin", EdgeKind.ASSUME, True),
            ("dev", "ops", EdgeKind.ASSUME, False),
            ("ops", "admin", EdgeKind.ASSUME, False),
        ],
        admins={"admin"},
    )
    found = escalation(privesc(v), "dev")
    assert found["conditional"] is False
    assert [h["target"] for h in found["path"]] == [arn("ops"), arn("admin")]


def test_only_conditional_paths_give_the_shortest_conditional_one() -> None:
    v = view(
        [
            ("dev", "admin", EdgeKind.ASSUME, True),
            ("dev", "ops", EdgeKind.ASSUME, False),
            ("ops", "admin", EdgeKind.ASSUME, True),
        ],
        admins={"admin"},
    )
    found = escalation(privesc(v), "dev")
    assert found["conditional"] is True
    assert [h["target"] for h in found["path"]] == [arn("admin")]
    # with MFA known to be present, the direct edge holds outright
    with_mfa = escalation(privesc(v, whatif=WhatIf(values={"aws:MultiFactorAuthPresent": "true"})), "dev")
    assert with_mfa["conditional"] is False and len(with_mfa["path"]) == 1


def test_a_grant_onto_itself_counts_and_the_shortest_wins() -> None:
    # dev can rewrite its own permissions (grant edge onto itself): one hop, shorter than via ops
    v = view(
        [
            ("dev", "ops", EdgeKind.ASSUME, False),
            ("ops", "admin", EdgeKind.ASSUME, False),
            ("dev", "dev", EdgeKind.GRANT, False),
        ],
        admins={"admin"},
    )
    found = escalation(privesc(v), "dev")
    assert [(h["kind"], h["target"]) for h in found["path"]] == [("grant", arn("dev"))]


BUCKET = "arn:aws:s3:::reports"


def test_who_can_prefers_an_unconditional_way_in() -> None:
    # dev reads the bucket itself only with MFA, and without conditions through ops; qa only with MFA
    v = view([("dev", "ops", EdgeKind.ASSUME, False), ("qa", "ops", EdgeKind.ASSUME, True)], admins=set())
    g = v.graph
    g.add_node(BUCKET, NodeKind.RESOURCE, name="reports")
    for who, conditional in (("dev", True), ("ops", False)):
        g.add_edge(
            DerivedEdge(
                source=arn(who),
                target=BUCKET,
                kind=EdgeKind.ACCESS,
                technique="resource-access",
                actions=("s3:GetObject",),
                access={"Read": ("s3:GetObject",)},
                conditions=MFA if conditional else True,
            )
        )
    found = {p["arn"]: p for p in who_can(v, BUCKET, action="s3:GetObject")["principals"]}
    assert found[arn("dev")]["conditional"] is False
    assert [h["kind"] for h in found[arn("dev")]["path"]] == ["assume", "access"]
    assert found[arn("qa")]["conditional"] is True
    assert found[arn("ops")]["conditional"] is False and len(found[arn("ops")]["path"]) == 1
