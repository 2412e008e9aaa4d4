"""credentials: CreateAccessKey / CreateLoginProfile / UpdateLoginProfile on another user -> escalate."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.edges.base import EdgeKind

from .estate_builder import Account, allow, arn, condition_keys, deny, graph, none, one, scp_org, sids

ATTACKER = arn("user", "attacker")
VICTIM = arn("user", "victim")


@pytest.mark.parametrize("action", ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"])
def test_credentials_of_another_user(tmp_path: Path, action: str) -> None:
    a = Account()
    a.user("attacker", allow(action, VICTIM, sid="Creds"))
    a.user("victim")
    e = one(graph(tmp_path, a), ATTACKER, VICTIM, action)
    assert e.kind is EdgeKind.ESCALATE
    assert e.actions == (action,)
    assert sids(e) == {"Creds"}
    assert e.conditions is True


def test_resource_scope_and_self_are_respected(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow("iam:CreateAccessKey", arn("user", "other"), sid="OnlyOther"))
    a.user("victim")
    a.user("other")
    g = graph(tmp_path, a)
    none(g, ATTACKER, VICTIM)
    one(g, ATTACKER, arn("user", "other"), "iam:CreateAccessKey")
    none(g, ATTACKER, ATTACKER)


def test_explicit_deny_blocks(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow("iam:CreateAccessKey"), deny("iam:CreateAccessKey", VICTIM))
    a.user("victim")
    none(graph(tmp_path, a), ATTACKER, VICTIM)


def test_scp_blocks(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow(["iam:CreateAccessKey", "iam:UpdateLoginProfile"]))
    a.user("victim")
    org = scp_org({"Version": "2012-10-17", "Statement": [deny("iam:CreateAccessKey")]}, a.id)
    g = graph(tmp_path, a, organization=org)
    none(g, ATTACKER, VICTIM, "iam:CreateAccessKey")
    one(g, ATTACKER, VICTIM, "iam:UpdateLoginProfile")


def test_one_step_admins_get_no_other_edges(tmp_path: Path) -> None:
    """iam:* on everything: the source can make itself admin, so its other edges add nothing."""
    a = Account()
    a.user("attacker", allow("iam:*"))
    a.user("victim")
    g = graph(tmp_path, a)
    none(g, ATTACKER, VICTIM)
    assert g.node(ATTACKER)["admin"]


def test_conditional_admins_are_marked_not_fanned_out(tmp_path: Path) -> None:
    a = Account()
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    a.user("attacker", allow("*", Condition=mfa))
    a.user("victim")
    g = graph(tmp_path, a)
    none(g, ATTACKER, VICTIM)
    node = g.node(ATTACKER)
    assert node["admin"] and node["admin_conditions"]


def test_conditional_admins_keep_edges_that_work_without_the_condition(tmp_path: Path) -> None:
    """Admin only with MFA, but CreateAccessKey without it: the edge is a path when MFA is absent."""
    a = Account()
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    a.user("attacker", allow("*", Condition=mfa), allow("iam:CreateAccessKey", VICTIM, sid="Keys"))
    a.user("victim")
    g = graph(tmp_path, a)
    e = one(g, ATTACKER, VICTIM, "iam:CreateAccessKey")
    assert e.conditions is True and "Keys" in sids(e)
    none(g, ATTACKER, VICTIM, "iam:CreateLoginProfile")  # only with MFA, when attacker is admin anyway
    assert g.node(ATTACKER)["admin_conditions"]


def test_mfa_condition_stays_on_the_edge(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow("iam:CreateAccessKey", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    a.user("victim")
    e = one(graph(tmp_path, a), ATTACKER, VICTIM, "iam:CreateAccessKey")
    assert condition_keys(e) == {"aws:MultiFactorAuthPresent"}


def test_credential_report_sharpens_the_technique(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow(["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"]))
    a.user("victim")
    a.user("keyless")
    a.credentials("victim", password=True, mfa=True, keys=2)
    a.credentials("keyless", password=False)
    a.credentials("attacker", password=False)
    g = graph(tmp_path, a)
    none(g, ATTACKER, VICTIM, "iam:CreateAccessKey")  # two keys: DeleteAccessKey needed too
    none(g, ATTACKER, VICTIM, "iam:CreateLoginProfile")  # it has a password already
    assert "MFA" in one(g, ATTACKER, VICTIM, "iam:UpdateLoginProfile").note
    none(g, ATTACKER, arn("user", "keyless"), "iam:UpdateLoginProfile")  # no password to update
    one(g, ATTACKER, arn("user", "keyless"), "iam:CreateLoginProfile")


def test_two_keys_with_delete_access_key(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow(["iam:CreateAccessKey", "iam:DeleteAccessKey"], sid="Rotate"))
    a.user("victim")
    a.credentials("victim", password=False, keys=2)
    e = one(graph(tmp_path, a), ATTACKER, VICTIM, "iam:CreateAccessKey")
    assert e.actions == ("iam:CreateAccessKey", "iam:DeleteAccessKey")
    assert "two active access keys" in e.note


def test_other_accounts_users_are_out_of_reach(tmp_path: Path) -> None:
    a = Account()
    a.user("victim")
    b = Account(id="444455556666")
    b.user("attacker", allow("iam:CreateAccessKey"))
    none(graph(tmp_path, a, b), arn("user", "attacker", b.id), VICTIM)
