"""Principals outside the snapshot: external accounts, anyone, AWS services, federated providers.

Their identity policies are not in the snapshot; an outside account controls its own policies, so its
principals are evaluated as holding every identity permission (``ALLOW_ALL``). Only the policies of the
estate under review (trust, resource policies, RCPs) then decide.
"""

from __future__ import annotations

from iamgraph.evaluation.request import Principal, PrincipalKind
from iamgraph.model.policy import Policy, PolicyKind
from iamgraph.policy.parse import parse_policy

__all__ = ["ALLOW_ALL", "ANYONE", "anyone_principal", "external_principal", "provider_principal", "service_principal"]

ANYONE = "*"
ALLOW_ALL: Policy = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "OutsideAccountControlsItsOwnPolicies", "Effect": "Allow", "Action": "*", "Resource": "*"}
        ],
    },
    name="(policies of the outside account, assumed to allow)",
    kind=PolicyKind.IDENTITY,
)
_SOME_ACCOUNT = "000000000000"  # stands for "an account that is neither in the snapshot nor named"


def external_principal(arn: str) -> Principal:
    """An IAM principal of an account outside the snapshot (its root ARN, a user or a role ARN)."""
    parts = arn.split(":")
    account = parts[4]
    resource = parts[5] if len(parts) > 5 else "root"
    if resource.startswith("user/"):
        return Principal(kind=PrincipalKind.USER, arn=arn, account=account, entity_arn=arn)
    if resource.startswith("role/"):
        name = resource.rsplit("/", 1)[-1]
        return Principal(
            kind=PrincipalKind.ROLE_SESSION,
            arn=f"arn:aws:sts::{account}:assumed-role/{name}/*",
            account=account,
            entity_arn=arn,
        )
    # the account itself: any of its IAM users or roles (not its root user, which cannot assume roles)
    return Principal(kind=PrincipalKind.USER, arn=f"arn:aws:iam::{account}:user/*", account=account)


def anyone_principal() -> Principal:
    """Any authenticated principal of an unrelated account (the ``"*"`` grants that reach the world)."""
    return Principal(kind=PrincipalKind.USER, arn=f"arn:aws:iam::{_SOME_ACCOUNT}:user/*", account=_SOME_ACCOUNT)


def service_principal(name: str) -> Principal:
    return Principal(kind=PrincipalKind.SERVICE, arn=None, service=name)


def provider_principal(provider: str) -> Principal:
    return Principal(kind=PrincipalKind.WEB_IDENTITY, arn=None, provider=provider)
