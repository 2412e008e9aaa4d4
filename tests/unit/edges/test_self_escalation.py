"""self_escalation: IAM writes that change a principal's permissions -> grant (self grant = admin)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.edges.base import EdgeKind

from .estate_builder import Account, allow, arn, condition_keys, deny, doc, graph, none, one, scp_org, sids

ATTACKER = arn("user", "attacker")
_GUARDED = ["ec2:*", "iam:Put*", "iam:Attach*", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"]


@pytest.mark.parametrize("action", ["iam:PutUserPolicy", "iam:AttachUserPolicy"])
def test_write_own_user_policy_makes_admin(tmp_path: Path, action: str) -> None:
    a = Account()
    a.user("attacker", allow(action, ATTACKER, sid="Self"))
    g = graph(tmp_path, a)
    e = one(g, ATTACKER, ATTACKER, action)
    assert e.kind is EdgeKind.GRANT and sids(e) == {"Self"}
    node = g.node(ATTACKER)
    assert node["admin"] is True and node["admin_via"] == action


def test_attach_condition_on_policy_arn_stays_residual(tmp_path: Path) -> None:
    a = Account()
    only_read = {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}
    a.user("attacker", allow("iam:AttachUserPolicy", ATTACKER, Condition=only_read))
    e = one(graph(tmp_path, a), ATTACKER, ATTACKER, "iam:AttachUserPolicy")
    assert condition_keys(e) == {"iam:PolicyARN"}


def test_boundary_keeps_a_self_write_from_being_admin(tmp_path: Path) -> None:
    a = Account()
    boundary = a.managed("S3Only", doc(allow(["s3:*", "iam:PutUserPolicy"])))
    a.user("attacker", allow("iam:PutUserPolicy", ATTACKER), boundary=boundary)
    g = graph(tmp_path, a)
    none(g, ATTACKER, ATTACKER)
    assert not g.node(ATTACKER).get("admin")


def test_scp_denying_the_write_blocks(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow("iam:PutUserPolicy", ATTACKER))
    org = scp_org(doc(deny(["iam:PutUserPolicy", "iam:PutRolePolicy"])), a.id)
    none(graph(tmp_path, a, organization=org), ATTACKER, ATTACKER)


def test_scp_guardrail_caps_but_does_not_demote(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow("iam:PutUserPolicy", ATTACKER))
    org = scp_org(doc(deny("organizations:LeaveOrganization")), a.id)
    one(graph(tmp_path, a, organization=org), ATTACKER, ATTACKER, "iam:PutUserPolicy")


@pytest.mark.parametrize("action", ["iam:PutRolePolicy", "iam:AttachRolePolicy"])
def test_write_another_role_policy_is_a_grant(tmp_path: Path, action: str) -> None:
    a = Account()
    target = a.role("target", {"Version": "2012-10-17", "Statement": []})
    a.user("attacker", allow(action, target, sid="Other"))
    e = one(graph(tmp_path, a), ATTACKER, target, action)
    assert e.kind is EdgeKind.GRANT and sids(e) == {"Other"}


@pytest.mark.parametrize("action", ["iam:PutGroupPolicy", "iam:AttachGroupPolicy"])
def test_group_policy_grants_every_member(tmp_path: Path, action: str) -> None:
    a = Account()
    group = a.group("team")
    a.user("attacker", allow(action, group, sid="Group"))
    a.user("mate", groups=("team",))
    a.user("outsider")
    g = graph(tmp_path, a)
    e = one(g, ATTACKER, arn("user", "mate"), action)
    assert e.via == (group,) and sids(e) == {"Group"}
    none(g, arn("user", "attacker"), arn("user", "outsider"))


@pytest.mark.parametrize("action", ["iam:PutGroupPolicy", "iam:AttachGroupPolicy"])
def test_policy_on_own_group_makes_admin(tmp_path: Path, action: str) -> None:
    a = Account()
    group = a.group("team")
    a.user("attacker", allow(action, group), groups=("team",))
    a.user("mate", groups=("team",))
    g = graph(tmp_path, a)
    assert one(g, ATTACKER, ATTACKER, action).via == (group,)
    none(g, ATTACKER, arn("user", "mate"))  # a one-step admin: its other edges add nothing


def test_boundary_removal_on_self(tmp_path: Path) -> None:
    a = Account()
    admin = a.admin_policy()
    boundary = a.managed("Narrow", doc(allow(["s3:*", "iam:DeleteUserPermissionsBoundary"])))
    a.user("attacker", allow("iam:DeleteUserPermissionsBoundary", ATTACKER), managed=(admin,), boundary=boundary)
    a.user("unbounded")
    g = graph(tmp_path, a)
    one(g, ATTACKER, ATTACKER, "iam:DeleteUserPermissionsBoundary")
    none(g, ATTACKER, arn("user", "unbounded"))  # nothing to remove there
    assert g.node(ATTACKER)["admin"]


def test_boundary_removal_that_does_not_make_admin(tmp_path: Path) -> None:
    a = Account()
    boundary = a.managed("Narrow", doc(allow(["s3:*", "iam:DeleteUserPermissionsBoundary"])))
    a.user("attacker", allow(["s3:*", "iam:DeleteUserPermissionsBoundary"], ATTACKER), boundary=boundary)
    none(graph(tmp_path, a), ATTACKER, ATTACKER)


def test_detaching_an_own_deny_policy(tmp_path: Path) -> None:
    a = Account()
    guard = a.managed("Guardrail", doc(deny(_GUARDED, sid="Guard")))
    a.user("attacker", allow("*", sid="All"), allow("iam:DetachUserPolicy", ATTACKER, sid="Detach"), managed=(guard,))
    g = graph(tmp_path, a)
    assert sids(one(g, ATTACKER, ATTACKER, "iam:DetachUserPolicy")) == {"All", "Detach"}
    assert g.node(ATTACKER)["admin_via"] == "iam:DetachUserPolicy"


def test_a_deny_that_also_denies_the_detach(tmp_path: Path) -> None:
    a = Account()
    guard = a.managed("Guardrail", doc(deny([*_GUARDED, "iam:DetachUserPolicy"])))
    a.user("attacker", allow("*"), managed=(guard,))
    none(graph(tmp_path, a), ATTACKER, ATTACKER)


def test_add_user_to_admin_group(tmp_path: Path) -> None:
    a = Account()
    admins = a.group("admins", managed=(a.admin_policy(),))
    a.group("readers", allow("s3:Get*"))
    a.user("attacker", allow("iam:AddUserToGroup", sid="Join"))
    g = graph(tmp_path, a)
    e = one(g, ATTACKER, ATTACKER, "iam:AddUserToGroup")
    assert e.via == (admins,) and sids(e) == {"Join"}
    assert g.node(ATTACKER)["admin"]


def test_a_role_adding_users_to_the_admin_group(tmp_path: Path) -> None:
    a = Account()
    admins = a.group("admins", managed=(a.admin_policy(),))
    a.group("readers", allow("s3:Get*"))
    helper = a.role("helper", {"Version": "2012-10-17", "Statement": []}, allow("iam:AddUserToGroup", sid="Join"))
    a.user("colleague")
    a.user("admin", groups=("admins",))
    g = graph(tmp_path, a)
    assert one(g, helper, arn("user", "colleague"), "iam:AddUserToGroup").via == (admins,)
    none(g, helper, arn("user", "admin"))  # already a member


def test_a_group_that_allows_all_but_iam_makes_admin_only_a_user_who_has_iam(tmp_path: Path) -> None:
    """The group grants everything but IAM (like PowerUserAccess): joining makes admin a user whose own
    policies grant IAM, and no one else. The user is tried because the actions the group lacks are all
    among its own (the cheap test before evaluating every member to be)."""
    a = Account()
    power = a.group("power", {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    a.user("iam-operator", allow("iam:*"))
    a.user("reader", allow("s3:Get*"))
    a.user("attacker", allow("iam:AddUserToGroup", sid="Join"))
    g = graph(tmp_path, a)
    assert one(g, ATTACKER, arn("user", "iam-operator"), "iam:AddUserToGroup").via == (power,)
    none(g, ATTACKER, arn("user", "reader"))
    none(g, ATTACKER, ATTACKER)


def test_add_user_to_a_harmless_group(tmp_path: Path) -> None:
    a = Account()
    a.group("readers", allow("s3:Get*"))
    a.user("attacker", allow("iam:AddUserToGroup"))
    none(graph(tmp_path, a), ATTACKER, ATTACKER)


def test_explicit_deny_blocks_add_to_group(tmp_path: Path) -> None:
    a = Account()
    admins = a.group("admins", managed=(a.admin_policy(),))
    a.user("attacker", allow("iam:AddUserToGroup"), deny("iam:AddUserToGroup", admins))
    none(graph(tmp_path, a), ATTACKER, ATTACKER)


def test_joining_a_group_that_can_write_policies_then_writing_an_admin_one(tmp_path: Path) -> None:
    """IAM Vulnerable's privesc13 as deployed: the group a user can join is not admin but allows iam:* (with
    ec2:* and s3:*, like its privesc-sre-group), so a new member writes itself an admin policy. The joiner
    gets the grant (a self grant: admin), a colleague outside the group too; a group whose IAM writes reach
    only another user, and a boundary that caps the joiner, give none."""
    a = Account()
    sre = a.group("sre", allow(["iam:*", "ec2:*", "s3:*"], sid="Sre"))
    a.user("attacker", allow("iam:AddUserToGroup", sid="Join"))
    a.user("colleague")
    g = graph(tmp_path, a)
    e = one(g, ATTACKER, ATTACKER, "iam:AddUserToGroup")
    assert e.via == (sre,) and sids(e) == {"Join", "Sre"} and "write itself an admin policy" in e.note
    assert e.actions == ("iam:AddUserToGroup",)  # the write is the joiner's: proof, not the source's actions
    assert g.node(ATTACKER)["admin"] and g.node(ATTACKER)["admin_via"] == "iam:AddUserToGroup"
    assert one(g, ATTACKER, arn("user", "colleague"), "iam:AddUserToGroup").via == (sre,)

    narrow = Account()
    narrow.group("sre", allow("iam:PutUserPolicy", arn("user", "someone-else")), allow(["ec2:*", "s3:*"]))
    narrow.user("attacker", allow("iam:AddUserToGroup"))
    narrow.user("someone-else")
    none(graph(tmp_path / "narrow", narrow), ATTACKER, ATTACKER)

    capped = Account()
    capped.group("sre", allow(["iam:*", "ec2:*", "s3:*"]))
    boundary = capped.managed("JoinOnly", doc(allow(["iam:AddUserToGroup", "iam:PutUserPolicy", "s3:*"])))
    capped.user("attacker", allow("iam:AddUserToGroup"), boundary=boundary)
    none(graph(tmp_path / "capped", capped), ATTACKER, ATTACKER)


def test_a_grant_onto_another_only_where_the_change_makes_it_admin(tmp_path: Path) -> None:
    """Writing a policy for a role its boundary caps at S3, removing the boundary of a role whose own
    policies allow only S3, detaching a Deny from a role allowed nothing else: none makes the target admin,
    so none is a grant (privesc would otherwise count each as a way to admin)."""
    a = Account()
    s3_only = a.managed("S3Only", doc(allow("s3:*")))
    guard = a.managed("Guardrail", doc(deny("s3:DeleteBucket")))
    empty = {"Version": "2012-10-17", "Statement": []}
    capped = a.role("capped", empty, boundary=s3_only)
    reader = a.role("reader", empty, allow("s3:*"), boundary=s3_only)
    powerful = a.role("powerful", empty, managed=(a.admin_policy(),), boundary=s3_only)
    guarded = a.role("guarded", empty, allow("s3:GetObject"), managed=(guard,))
    levers = ["iam:PutRolePolicy", "iam:DeleteRolePermissionsBoundary", "iam:DetachRolePolicy"]
    a.user("attacker", allow(levers, "*", sid="Levers"))
    g = graph(tmp_path, a)
    techniques = {(e.target, e.technique) for e in g.edges(EdgeKind.GRANT) if e.source == ATTACKER}
    # capped and reader: S3 is all their boundary lets through, whatever is written or removed; guarded:
    # detaching its Deny leaves s3:GetObject, but it has no boundary, so an Allow-everything policy works;
    # powerful: its own policies are admin's once the boundary is gone
    assert techniques == {(guarded, "iam:PutRolePolicy"), (powerful, "iam:DeleteRolePermissionsBoundary")}
    none(g, ATTACKER, capped)
    none(g, ATTACKER, reader)
