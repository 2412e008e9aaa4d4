"""``Estate.acting_naming``: the principals whose identity Allow statements may name a service, the list
the privilege-escalation techniques walk instead of every principal (``PrivescIndex.sources``). Every
principal that ``may_allow`` an action of the service is in it, in the estate's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.graph.estate import Estate
from iamgraph.ingest import load_snapshot

from .estate_builder import Account, allow, demo_or_generated, deny, load

ACTIONS = (
    "iam:PassRole",
    "iam:CreateAccessKey",
    "iam:PutUserPolicy",
    "lambda:UpdateFunctionCode",
    "s3:GetObject",
    "ssm:SendCommand",
    "sts:AssumeRole",
    "kms:Decrypt",
    "ec2:RunInstances",
    "glue:CreateDevEndpoint",
)


def _check(estate: Estate) -> int:
    acting = list(estate.acting_principals())
    place = {p.arn: i for i, p in enumerate(acting)}
    found = 0
    for action in ACTIONS:
        listed = estate.acting_naming(action.split(":", 1)[0].lower())
        positions = [place[p.arn] for p in listed]
        assert positions == sorted(set(positions))  # the estate's order, each once
        allowed = [p.arn for p in acting if estate.may_allow(p.arn, action)]
        assert set(allowed) <= {p.arn for p in listed}, action
        found += len(allowed)
    return found


@pytest.mark.parametrize("seed", [None, 3, 11])
def test_every_principal_allowed_an_action_is_listed_for_its_service(tmp_path: Path, seed: int | None) -> None:
    path = demo_or_generated(tmp_path, seed, principals=200, accounts=3, resources=200)
    assert _check(Estate(load_snapshot(path))) > 0


def test_not_action_wildcard_services_and_denies(tmp_path: Path) -> None:
    """NotAction and a wildcard in the service part may name any service; a Deny names none; letter case
    of the service does not matter."""
    a = Account()
    a.user("notaction", {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})
    a.user("wild", allow("i*:Pass*"))
    a.user("upper", allow("IAM:PassRole"))
    a.user("denied", deny("iam:*"), allow("s3:GetObject"))
    a.user("plain", allow("s3:GetObject"))
    estate = Estate(load(tmp_path, a))
    names = [p.arn.rsplit("/", 1)[-1] for p in estate.acting_naming("iam")]
    assert names == ["notaction", "wild", "upper"]
    assert [p.arn.rsplit("/", 1)[-1] for p in estate.acting_naming("s3")] == [
        "notaction",
        "wild",
        "denied",
        "plain",
    ]
    _check(estate)
