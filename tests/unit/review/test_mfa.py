"""Sensitive actions without MFA, decided by the evaluator (Bool, BoolIfExists, absent key for access keys)."""

from __future__ import annotations

from pathlib import Path

from .builder import Acct, allow, deny, iam, of, run

SENSITIVE = ("iam:CreateAccessKey", "iam:AttachUserPolicy")
MFA_TRUE = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_allowed_without_mfa(tmp_path: Path) -> None:
    a = Acct()
    loose = a.user("loose", allow(list(SENSITIVE), "*", sid="Manage"))
    [f] = of(run(tmp_path, a, sensitive_actions=SENSITIVE), "sensitive-action-without-mfa")
    assert f["subject"] == loose
    assert f["evidence"]["details"]["actions"] == {
        "iam:AttachUserPolicy": "console session and access key",
        "iam:CreateAccessKey": "console session and access key",
    }
    assert f["evidence"]["statements"][0]["sid"] == "Manage"


def test_mfa_required_by_allow_or_deny(tmp_path: Path) -> None:
    a = Acct()
    a.user("allow-mfa", allow(list(SENSITIVE), "*", Condition=MFA_TRUE))
    a.user(
        "deny-no-mfa",
        allow(list(SENSITIVE), "*"),
        deny(list(SENSITIVE), "*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
    )
    a.user("nothing", allow("s3:ListAllMyBuckets"))
    assert not of(run(tmp_path, a, sensitive_actions=SENSITIVE), "sensitive-action-without-mfa")


def test_bool_false_deny_leaves_access_keys(tmp_path: Path) -> None:
    """``Bool ... false`` does not match requests without the key (long-term access keys)."""
    a = Acct()
    half = a.user(
        "half",
        allow(list(SENSITIVE), "*"),
        deny(list(SENSITIVE), "*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
    )
    [f] = of(run(tmp_path, a, sensitive_actions=SENSITIVE), "sensitive-action-without-mfa")
    assert f["subject"] == half and set(f["evidence"]["details"]["actions"].values()) == {"access key"}


def test_own_user_only_still_counts(tmp_path: Path) -> None:
    a = Acct()
    me = a.user("me", allow("iam:CreateAccessKey", iam("user", "${aws:username}")))
    [f] = of(run(tmp_path, a, sensitive_actions=("iam:CreateAccessKey",)), "sensitive-action-without-mfa")
    assert f["subject"] == me
