"""``Estate.may_allow`` answers no without matching statements for a service no identity Allow names
(``Estate._allowed_services``); its answers must be those of matching every statement."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.ingest import load_snapshot
from iamgraph.model.policy import Effect

from .estate_builder import Account, allow, arn, doc, generated, load

ACTIONS = [
    "iam:PassRole", "IAM:PutUserPolicy", "iam:CreateAccessKey", "sts:AssumeRole", "s3:GetObject",
    "lambda:UpdateFunctionCode", "ec2:RunInstances", "kms:Decrypt", "ssm:SendCommand", "glue:CreateJob",
]  # fmt: skip


def _matched(entry: PrincipalEntry, action: str) -> bool:
    return entry.kind == "root" or any(
        st.effect is Effect.ALLOW and st.action_matcher.matches(action)
        for pol in entry.identity
        for st in pol.statements
    )


def _check(estate: Estate) -> int:
    allowed = 0
    for entry in estate.principals.values():
        for action in ACTIONS:
            assert estate.may_allow(entry.arn, action) is _matched(entry, action), (entry.arn, action)
            allowed += _matched(entry, action)
    return allowed


@pytest.mark.parametrize("seed", [4, 12])
def test_may_allow_is_matching_every_statement(seed: int, tmp_path: Path) -> None:
    estate = Estate(load_snapshot(generated(tmp_path, seed, principals=150, accounts=2, resources=200)))
    assert _check(estate) > 0


def test_services_named_in_any_letter_case_wildcards_and_not_action(tmp_path: Path) -> None:
    a = Account()
    a.user("upper", allow("IAM:PassRole"))
    a.user("wild-service", allow("i*:PutUserPolicy"))
    a.user("not-action", {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})
    a.user("star", allow("*"))
    a.user("narrow", allow(["s3:GetObject", "kms:Decrypt"]))
    a.user("denied", {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}, allow("s3:*"))
    shared = a.managed("shared", doc(allow("ssm:SendCommand")))
    a.user("managed", managed=(shared,))
    estate = Estate(load(tmp_path, a))
    assert _check(estate) > 0
    services = {name: estate._allowed_services(estate.principals[arn("user", name)]) for name in ("upper", "narrow")}
    assert services == {"upper": frozenset({"iam"}), "narrow": frozenset({"s3", "kms"})}
    for name in ("wild-service", "not-action", "star"):
        assert estate._allowed_services(estate.principals[arn("user", name)]) is None
    assert estate.may_allow(arn("user", "upper"), "iam:passrole")
    assert estate.may_allow(arn("user", "wild-service"), "iam:PutUserPolicy")
    assert not estate.may_allow(arn("user", "narrow"), "iam:PassRole")
    assert estate.may_allow(arn("user", "narrow"), "S3:GetObject")  # a service in any letter case
    assert estate.may_allow(arn("user", "managed"), "ssm:SendCommand")
