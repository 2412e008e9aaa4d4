"""Keys derived from the principal (spec §1.5.1 and the §4.6 table)."""

from __future__ import annotations

from typing import Any

import pytest

from iamgraph.evaluation.keys import PRINCIPAL_KEY_PATTERNS, principal_keys
from iamgraph.evaluation.request import Principal

from .helpers import ANONYMOUS, ORG, A, B, federated, root, service, session, user, web_identity


def keys(p: Principal, resource_account: str | None = A) -> dict[str, Any]:
    return {k.lower(): v for k, v in principal_keys(p, resource_account).items()}


# principal -> (aws:username, aws:userid, aws:PrincipalType, aws:PrincipalArn); None = key not present
TABLE = [
    ("root", root(), None, A, "Account", f"arn:aws:iam::{A}:root"),
    ("user", user(), "alice", "AIDAEXAMPLEUSERID0001", "User", f"arn:aws:iam::{A}:user/alice"),
    (
        "assumed-role",
        session("R", "s1"),
        None,
        "AROAEXAMPLEROLEID0001:s1",
        "AssumedRole",
        f"arn:aws:iam::{A}:role/R",  # the role, not the session
    ),
    (
        "role-on-ec2",
        session("R", "i-0123456789abcdef0"),
        None,
        "AROAEXAMPLEROLEID0001:i-0123456789abcdef0",
        "AssumedRole",
        f"arn:aws:iam::{A}:role/R",
    ),
    ("federated-user", federated("fed"), None, f"{A}:fed", "FederatedUser", f"arn:aws:sts::{A}:federated-user/fed"),
    ("anonymous", ANONYMOUS, None, "anonymous", "Anonymous", None),
]


@pytest.mark.parametrize(("label", "p", "username", "userid", "ptype", "parn"), TABLE, ids=[t[0] for t in TABLE])
def test_principal_table(
    label: str, p: Principal, username: str | None, userid: str, ptype: str, parn: str | None
) -> None:
    k = keys(p)
    assert k.get("aws:username") == username
    assert k.get("aws:userid") == userid
    assert k.get("aws:principaltype") == ptype
    assert k.get("aws:principalarn") == parn


def test_user_name_without_path() -> None:
    p = Principal(
        kind=user().kind,
        arn=f"arn:aws:iam::{A}:user/division/team/alice",
        account=A,
        entity_arn=f"arn:aws:iam::{A}:user/division/team/alice",
    )
    assert keys(p)["aws:username"] == "alice"


def test_user_without_known_unique_id_has_no_userid() -> None:
    assert "aws:userid" not in keys(user(unique_id=None))


def test_principal_account() -> None:
    assert keys(user())["aws:principalaccount"] == A
    assert keys(root(B))["aws:principalaccount"] == B
    assert keys(ANONYMOUS)["aws:principalaccount"] == "anonymous"
    assert "aws:principalaccount" not in keys(service())


def test_principal_is_aws_service() -> None:
    for p in (user(), session(), federated(), root()):
        assert keys(p)["aws:principalisawsservice"] == "false"
    k = keys(service("cloudtrail.amazonaws.com"))
    assert k["aws:principalisawsservice"] == "true"
    assert k["aws:principalservicename"] == "cloudtrail.amazonaws.com"
    assert "aws:principalarn" not in k
    assert "aws:principalisawsservice" not in keys(ANONYMOUS)  # only signed requests


def test_tags() -> None:
    k = keys(session(tags={"team": "red", "CostCenter": "42"}))
    assert k["aws:principaltag/team"] == "red" and k["aws:principaltag/costcenter"] == "42"
    assert not any(key.startswith("aws:principaltag/") for key in keys(ANONYMOUS))


def test_organization() -> None:
    paths = (f"{ORG}/r-ab12/ou-ab12-11111111/",)
    k = keys(user(org_id=ORG, org_paths=paths))
    assert k["aws:principalorgid"] == ORG
    assert list(k["aws:principalorgpaths"]) == list(paths)
    assert "aws:principalorgid" not in keys(user())


def test_resource_account() -> None:
    assert keys(user(), B)["aws:resourceaccount"] == B
    assert "aws:resourceaccount" not in keys(user(), None)


def test_web_identity_caller_has_only_resource_keys() -> None:
    assert set(keys(web_identity("accounts.google.com"))) == {"aws:resourceaccount"}


def test_patterns_cover_every_derived_principal_key() -> None:
    from iamgraph.evaluation.context import KeyPatterns

    kp = KeyPatterns.of(PRINCIPAL_KEY_PATTERNS)
    for p in (
        root(),
        user(tags={"t": "v"}, org_id=ORG, org_paths=("x",)),
        session(),
        federated(),
        service(),
        ANONYMOUS,
    ):
        for k in keys(p):
            assert k in kp, k
