"""trust_rewrite: UpdateAssumeRolePolicy on a role, then AssumeRole (spec §5.7 TP-2, TP-3)."""

from __future__ import annotations

from pathlib import Path

from iamgraph.edges.base import EdgeKind

from .estate_builder import Account, allow, arn, deny, doc, graph, none, one, scp_org, sids, trust_service

ATTACKER = arn("user", "attacker")
TARGET = arn("role", "target")


def test_rewrite_without_identity_assume_permission(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow("iam:UpdateAssumeRolePolicy", TARGET, sid="Rewrite"))
    a.role("target", trust_service("ec2.amazonaws.com"))
    e = one(graph(tmp_path, a), ATTACKER, TARGET, "iam:UpdateAssumeRolePolicy")
    assert e.kind is EdgeKind.ESCALATE
    assert e.actions == ("iam:UpdateAssumeRolePolicy", "sts:AssumeRole")
    assert sids(e) == {"Rewrite"}  # the rewritten trust is made up: not part of the proof
    assert e.conditions is True


def test_boundary_without_assume_role_blocks(tmp_path: Path) -> None:
    a = Account()
    boundary = a.managed("OnlyIam", doc(allow("iam:*")))
    a.user("attacker", allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"]), boundary=boundary)
    a.role("target", trust_service("ec2.amazonaws.com"))
    none(graph(tmp_path, a), ATTACKER, TARGET)


def test_identity_deny_on_assume_blocks(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow("iam:UpdateAssumeRolePolicy"), deny("sts:AssumeRole"))
    a.role("target", trust_service("ec2.amazonaws.com"))
    none(graph(tmp_path, a), ATTACKER, TARGET)


def test_scp_deny_on_update_blocks(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow("iam:UpdateAssumeRolePolicy"))
    a.role("target", trust_service("ec2.amazonaws.com"))
    org = scp_org(doc(deny("iam:UpdateAssumeRolePolicy")), a.id)
    none(graph(tmp_path, a, organization=org), ATTACKER, TARGET)


def test_service_linked_roles_are_skipped(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow("iam:UpdateAssumeRolePolicy"))
    slr = a.role("AWSServiceRoleForX", trust_service("x.amazonaws.com"), path="/aws-service-role/x.amazonaws.com/")
    none(graph(tmp_path, a), ATTACKER, slr)
