"""Admin control edges (iamgraph.graph.control): an admin in effect acts as any user or role of its account."""

from __future__ import annotations

from pathlib import Path

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.queries import Analysis, find_paths

from .estate_builder import (
    ACCOUNT,
    OTHER,
    Account,
    allow,
    arn,
    condition_keys,
    deny,
    doc,
    edges,
    graph,
    load,
    none,
    one,
    scp_org,
    sids,
    trust_aws,
    trust_service,
)

ADMIN = arn("user", "admin")
VICTIM = arn("user", "victim")
OPS = arn("role", "ops")


def _account() -> Account:
    a = Account()
    a.user("victim")
    a.role("ops", trust_aws(f"arn:aws:iam::{ACCOUNT}:root"))
    return a


def test_admin_controls_every_user_and_role_of_its_account(tmp_path: Path) -> None:
    a = _account()
    a.user("admin", allow("*", sid="Everything"))
    other = Account(id=OTHER)
    other.user("stranger")
    g = graph(tmp_path, a, other)
    for target in (VICTIM, OPS):
        e = one(g, ADMIN, target, "admin")
        assert e.kind is EdgeKind.ESCALATE and e.conditions is True
        assert "Everything" in sids(e)
    none(g, ADMIN, arn("user", "stranger", OTHER), "admin")  # another account: only real trusts count
    none(g, ADMIN, ADMIN, "admin")
    assert g.node(ADMIN)["admin"]


def test_admin_under_mfa_controls_the_account_under_mfa(tmp_path: Path) -> None:
    a = _account()
    a.user("admin", allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    e = one(graph(tmp_path, a), ADMIN, VICTIM, "admin")
    assert condition_keys(e) == {"aws:MultiFactorAuthPresent"}


def test_service_linked_roles_are_not_controlled(tmp_path: Path) -> None:
    a = _account()
    a.user("admin", allow("*"))
    linked = a.role("AWSServiceRoleForSupport", trust_service("support.amazonaws.com"), path="/aws-service-role/")
    g = graph(tmp_path, a)
    none(g, ADMIN, linked, "admin")
    one(g, ADMIN, OPS, "admin")


def test_an_admin_capped_by_an_scp_keeps_its_technique_edges_and_gets_no_control_edges(tmp_path: Path) -> None:
    a = _account()
    a.user("admin", allow("*"))
    org = scp_org(doc(deny(["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"])), ACCOUNT)
    g = graph(tmp_path, a, organization=org)
    assert g.node(ADMIN)["admin"]  # the node mark ignores organization policies: SCPs cap, not demote
    none(g, ADMIN, VICTIM, "admin")
    none(g, ADMIN, VICTIM, "iam:CreateAccessKey")  # denied by the SCP
    one(g, ADMIN, OPS, "iam:UpdateAssumeRolePolicy")  # still allowed: the path the skip used to hide


def test_one_step_admin_controls_the_account_after_its_self_grant(tmp_path: Path) -> None:
    a = _account()
    a.user("admin", allow("iam:PutUserPolicy", ADMIN, sid="SelfPut"))
    g = graph(tmp_path, a)
    one(g, ADMIN, ADMIN, "iam:PutUserPolicy")
    e = one(g, ADMIN, VICTIM, "admin")
    assert "SelfPut" in sids(e) and "after iam:PutUserPolicy" in e.note


def test_path_through_an_admin_reaches_a_role_no_trust_names(tmp_path: Path) -> None:
    a = Account()
    a.user("dev", allow("sts:AssumeRole", arn("role", "breakglass"), sid="AssumeBreakglass"))
    a.role("breakglass", trust_aws(arn("user", "dev")), allow("*", sid="Admin"))
    a.role("payments", trust_service("lambda.amazonaws.com"))
    analysis = Analysis.of(load(tmp_path, a))
    found = find_paths(analysis, arn("user", "dev"), arn("role", "payments"))
    hops = found["paths"][0]["hops"]
    assert [h["technique"] for h in hops] == ["sts:AssumeRole", "admin"]
    assert len(edges(analysis.graph, EdgeKind.ESCALATE, "admin")) >= 2
