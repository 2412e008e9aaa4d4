"""Builders for direct evaluate() calls: principals, policies, requests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from iamgraph.evaluation import Decision, EngineOptions, OrgLevel, PolicySet, evaluate
from iamgraph.evaluation.context import Context
from iamgraph.evaluation.keys import PRINCIPAL_KEY_PATTERNS, principal_keys
from iamgraph.evaluation.request import Principal, PrincipalKind, Request
from iamgraph.model.policy import Policy, PolicyKind
from iamgraph.policy.parse import parse_policy

A = "111122223333"  # resource owner
B = "444455556666"  # external account
ORG = "o-a1b2c3d4e5"

OPTIONS = EngineOptions(flag_unknown_actions=False, rcp_services=frozenset({"s3", "kms", "sts", "sqs", "dynamodb"}))

BUCKET = "arn:aws:s3:::bucket"
OBJECT = "arn:aws:s3:::bucket/key"


def user(name: str = "alice", account: str = A, **kw: Any) -> Principal:
    arn = f"arn:aws:iam::{account}:user/{name}"
    kw.setdefault("unique_id", "AIDAEXAMPLEUSERID0001")
    return Principal(kind=PrincipalKind.USER, arn=arn, account=account, entity_arn=arn, **kw)


def session(role: str = "R", name: str = "s1", account: str = A, *, path: str = "/", **kw: Any) -> Principal:
    kw.setdefault("unique_id", "AROAEXAMPLEROLEID0001")
    return Principal(
        kind=PrincipalKind.ROLE_SESSION,
        arn=f"arn:aws:sts::{account}:assumed-role/{role}/{name}",
        account=account,
        entity_arn=f"arn:aws:iam::{account}:role{path}{role}",
        session_name=name,
        **kw,
    )


def federated(name: str = "fed", account: str = A, *, by: str | None = None, **kw: Any) -> Principal:
    return Principal(
        kind=PrincipalKind.FEDERATED_USER,
        arn=f"arn:aws:sts::{account}:federated-user/{name}",
        account=account,
        entity_arn=by,
        **kw,
    )


def root(account: str = A, **kw: Any) -> Principal:
    return Principal(kind=PrincipalKind.ROOT, arn=f"arn:aws:iam::{account}:root", account=account, **kw)


def service(name: str = "cloudtrail.amazonaws.com") -> Principal:
    return Principal(kind=PrincipalKind.SERVICE, arn=None, service=name)


ANONYMOUS = Principal(kind=PrincipalKind.ANONYMOUS, arn=None)


def web_identity(provider: str) -> Principal:
    return Principal(kind=PrincipalKind.WEB_IDENTITY, arn=None, provider=provider)


def st(effect: str, action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect, "Action": action}
    if resource is not None:
        out["Resource"] = resource
    out.update(extra)
    return out


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return st("Allow", action, resource, **extra)


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return st("Deny", action, resource, **extra)


def pol(
    *statements: Mapping[str, Any],
    kind: PolicyKind = PolicyKind.IDENTITY,
    name: str | None = None,
    version: str | None = "2012-10-17",
) -> Policy:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        doc["Version"] = version
    return parse_policy(doc, name=name or f"{kind.value}-policy", kind=kind)


def rbp(*statements: Mapping[str, Any], name: str = "bucket-policy") -> Policy:
    return pol(*statements, kind=PolicyKind.RESOURCE, name=name)


def trust(*statements: Mapping[str, Any]) -> Policy:
    return pol(*statements, kind=PolicyKind.TRUST, name="trust-policy")


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4].isdigit() else None


def request(
    principal: Principal,
    action: str,
    resource: str = OBJECT,
    *,
    account: str | None = None,
    context: Mapping[str, object] | None = None,
    unknown: Iterable[str] | str | None = None,
    derived: bool = True,
) -> Request:
    """A request whose context carries the principal-derived keys (as the simulate documents do)."""
    owner = account or _arn_account(resource) or principal.account or A
    ctx = Context.build(context or {}, unknown=unknown)
    if derived:
        ctx = ctx.with_values(principal_keys(principal, owner))
        if ctx.partial:
            ctx = Context.build(ctx.values, unknown=unknown, known=PRINCIPAL_KEY_PATTERNS)
    return Request(principal=principal, action=action, resource=resource, resource_account=owner, context=ctx)


def levels(*level_policies: Sequence[Policy] | Policy, kind: str = "scp") -> tuple[OrgLevel, ...]:
    out = []
    for i, lp in enumerate(level_policies):
        pols = (lp,) if isinstance(lp, Policy) else tuple(lp)
        out.append(OrgLevel(name=f"{kind}-level-{i}", policies=pols))
    return tuple(out)


def scp(*statements: Mapping[str, Any], name: str = "scp") -> Policy:
    return pol(*statements, kind=PolicyKind.SCP, name=name)


def rcp(*statements: Mapping[str, Any], name: str = "rcp") -> Policy:
    return pol(*statements, kind=PolicyKind.RCP, name=name)


FULL_ACCESS = scp(allow(), name="FullAWSAccess")


def decide(
    principal: Principal,
    action: str,
    resource: str = OBJECT,
    *,
    identity: Sequence[Policy] = (),
    boundaries: Sequence[Policy] = (),
    session_policies: Sequence[Policy] | None = None,
    resource_policy: Policy | None = None,
    scps: tuple[OrgLevel, ...] = (),
    rcps: tuple[OrgLevel, ...] = (),
    vpce: Sequence[Policy] = (),
    account: str | None = None,
    context: Mapping[str, object] | None = None,
    unknown: Iterable[str] | str | None = None,
    options: EngineOptions = OPTIONS,
) -> Decision:
    if boundaries and not principal.has_boundary:
        principal = replace(principal, has_boundary=True)
    req = request(principal, action, resource, account=account, context=context, unknown=unknown)
    policies = PolicySet(
        identity=tuple(identity),
        boundaries=tuple(boundaries),
        session=tuple(session_policies) if session_policies is not None else None,
        resource=resource_policy,
        scps=scps,
        rcps=rcps,
        vpce=tuple(vpce),
    )
    return evaluate(req, policies, options)


def matched_labels(d: Decision, *, conditional: bool | None = None) -> set[tuple[str, str, str]]:
    """(layer, policy, label) of matched statements (optionally only (un)conditional ones)."""
    return {
        (m.ref.layer.value, m.ref.policy, m.ref.label)
        for m in d.matched
        if conditional is None or m.conditional is conditional
    }
