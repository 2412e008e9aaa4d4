"""Which policy variables a class of principals may carry (``iamgraph.graph.shared._clauses``): those
naming the principal's own keys, whose values then key the class; anything else keeps the answer the
principal's own."""

from __future__ import annotations

from typing import Any

import pytest

from iamgraph.graph.shared import _clauses
from iamgraph.model.policy import PolicyKind
from iamgraph.policy.parse import parse_policy

ACTION = "ec2:StopInstances"


def _policy(statement: dict[str, Any], version: str = "2012-10-17") -> Any:
    doc = {"Version": version, "Statement": [{"Effect": "Allow", "Action": ACTION, **statement}]}
    return parse_policy(doc, name="p", kind=PolicyKind.IDENTITY)


@pytest.mark.parametrize(
    ("statement", "keys"),
    [
        (
            {"Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
            ("aws:principaltag/team",),
        ),
        ({"Resource": "arn:aws:ec2:*:*:instance/${aws:username}-*"}, ("aws:username",)),
        (
            {"Resource": "*", "Condition": {"StringLike": {"aws:PrincipalTag/owner": "${aws:userid, 'none'}"}}},
            ("aws:userid",),
        ),
        ({"Resource": "arn:aws:ec2:*:*:instance/${*}"}, ()),  # an escape, no variable
    ],
)
def test_principal_keys_are_carried(statement: dict[str, Any], keys: tuple[str, ...]) -> None:
    found = _clauses([_policy(statement)], ACTION, variables=True)
    assert found is not None and found[1] == keys
    assert _clauses([_policy(statement)], ACTION) is None  # carried only when asked for


@pytest.mark.parametrize(
    "statement",
    [
        # the resource's value, not the principal's: the class cannot carry it
        {"Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}}},
        {"Resource": "arn:aws:ec2:*:*:instance/${ec2:ResourceTag/name}"},
        {"Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "${aws:SourceIp}"}}},
    ],
)
def test_other_keys_keep_the_answer_the_principals_own(statement: dict[str, Any]) -> None:
    assert _clauses([_policy(statement)], ACTION, variables=True) is None


def test_literal_text_of_an_old_version_is_not_decided_as_a_variable() -> None:
    """Under Version 2008-10-17 ``${`` is literal text; the outcomes are decided with variables, so such a
    statement keeps its answer the principal's own rather than be decided as something it is not."""
    statement = {"Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}
    assert _clauses([_policy(statement, version="2008-10-17")], ACTION, variables=True) is None
