"""Global condition keys derived from the principal and the request (spec §1.5.1, §4.6)."""

from __future__ import annotations

from iamgraph.evaluation.request import Principal, PrincipalKind

__all__ = ["PRINCIPAL_KEY_PATTERNS", "principal_keys"]

# Keys whose value (or absence) is fixed by who the principal is: never unknown in partial evaluation.
PRINCIPAL_KEY_PATTERNS = (
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
    "aws:principaltag/*",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:resourceaccount",
)

_TYPES = {
    PrincipalKind.ROOT: "Account",
    PrincipalKind.USER: "User",
    PrincipalKind.ROLE_SESSION: "AssumedRole",
    PrincipalKind.FEDERATED_USER: "FederatedUser",
    PrincipalKind.ANONYMOUS: "Anonymous",
}

# Enum members as module constants: on Python 3.11 every ``Enum.MEMBER`` lookup goes through
# EnumType.__getattr__ (~0.3 µs).
_ROOT, _USER, _ROLE_SESSION, _FEDERATED_USER = (
    PrincipalKind.ROOT,
    PrincipalKind.USER,
    PrincipalKind.ROLE_SESSION,
    PrincipalKind.FEDERATED_USER,
)
_SERVICE, _ANONYMOUS, _WEB_IDENTITY = PrincipalKind.SERVICE, PrincipalKind.ANONYMOUS, PrincipalKind.WEB_IDENTITY


def principal_keys(p: Principal, resource_account: str | None) -> dict[str, object]:
    """The keys AWS puts in every request of ``p`` (only those that are present)."""
    keys: dict[str, object] = {}
    principal_type = _TYPES.get(p.kind)
    if principal_type is not None:
        keys["aws:PrincipalType"] = principal_type
    if p.kind is _ANONYMOUS:
        keys["aws:PrincipalAccount"] = "anonymous"
        keys["aws:userid"] = "anonymous"
    elif p.kind is _SERVICE:
        keys["aws:PrincipalIsAWSService"] = "true"
        if p.service:
            keys["aws:PrincipalServiceName"] = p.service
    elif p.kind is not _WEB_IDENTITY:
        keys["aws:PrincipalIsAWSService"] = "false"
        if p.account:
            keys["aws:PrincipalAccount"] = p.account
        arn = p.entity_arn if p.kind is _ROLE_SESSION else p.arn
        if arn:
            keys["aws:PrincipalArn"] = arn
        for k, v in p.tags.items():
            keys[f"aws:PrincipalTag/{k}"] = v
        if p.org_id:
            keys["aws:PrincipalOrgID"] = p.org_id
        if p.org_paths:
            keys["aws:PrincipalOrgPaths"] = list(p.org_paths)
    if p.kind is _USER:
        keys["aws:username"] = p.name
        if p.unique_id:
            keys["aws:userid"] = p.unique_id
    elif p.kind is _ROOT and p.account:
        keys["aws:userid"] = p.account
    elif p.kind is _ROLE_SESSION and p.unique_id and p.session_name:
        keys["aws:userid"] = f"{p.unique_id}:{p.session_name}"
    elif p.kind is _FEDERATED_USER and p.account and p.arn:
        keys["aws:userid"] = f"{p.account}:{p.arn.rsplit('/', 1)[-1]}"
    if resource_account:
        keys["aws:ResourceAccount"] = resource_account
    return keys
