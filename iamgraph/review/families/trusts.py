"""Roles and delegation: who role trust policies let in. Each trusted party is put to the evaluator twice:
with the trust policy alone (what the policy says: the configuration finding) and with the organization's
RCPs too (whether it works today: ``effective``, else ``blocked_by``). Whether ExternalId, ``aud`` or
``sub`` are required is asked the same way: is the assumption still possible without the key, or with an
unrelated value?"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from iamgraph.edges.base import EdgeKind
from iamgraph.evaluation.decision import Decision
from iamgraph.evaluation.request import Principal
from iamgraph.graph.outside import ALLOW_ALL, ANYONE, anyone_principal, external_principal, provider_principal
from iamgraph.model.policy import Effect, Statement
from iamgraph.model.snapshot import Role
from iamgraph.policy.logic import Expr, atoms
from iamgraph.review.context import AUTHORIZATION, ReviewContext
from iamgraph.review.model import Finding, Severity
from iamgraph.review.probe import resolve_keys
from iamgraph.review.registry import register

FAMILY = "trusts"
ASSUME = "sts:AssumeRole"
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
PROBE = "iamgraph-review-probe-unrelated-value"
_ACCOUNT = re.compile(r"^(?:(\d{12})|arn:[\w-]+:(?:iam|sts)::(\d{12}):(.+))$")


@dataclass(slots=True)
class _Trust:
    """One party a role's trust policy names, with the statements that name it."""

    role: Role
    account: str  # the role's account
    entry: str  # as written: an account id, an ARN, a provider, or "*"
    block: str  # "aws" (accounts and IAM principals), "federated" or "anyone"
    statements: list[Statement] = field(default_factory=list)


def _trusts(ctx: ReviewContext) -> list[_Trust]:
    found = ctx.memo.get(("trusts",))
    if found is None:
        grouped: dict[tuple[str, str], _Trust] = {}
        for account in ctx.accounts():
            for role in account.roles.values():
                if role.service_linked:
                    continue
                for st in role.trust_policy.statements:
                    if st.effect is not Effect.ALLOW or st.principal is None:
                        continue
                    block = st.principal
                    entries = [("*", "anyone")] if block.wildcard else []
                    entries += [(e, "aws") for e in block.aws] + [(e, "federated") for e in block.federated]
                    for entry, kind in entries:
                        trust = grouped.setdefault((role.arn, entry), _Trust(role, account.id, entry, kind))
                        trust.statements.append(st)
        found = list(grouped.values())
        ctx.memo[("trusts",)] = found
    return list(found)


@dataclass(frozen=True, slots=True)
class _Verdict:
    policy: Decision  # the trust policy alone
    full: Decision  # with the organization's policies (RCPs)


def _verdict(ctx: ReviewContext, t: _Trust, principal: Principal, action: str) -> _Verdict:
    key = ("trust", t.role.arn, t.entry, action)
    found = ctx.memo.get(key)
    if found is None:
        ev = ctx.estate.evaluate
        found = _Verdict(
            policy=ev(principal, action, t.role.arn, identity=(ALLOW_ALL,), org_policies=False),
            full=ev(principal, action, t.role.arn, identity=(ALLOW_ALL,)),
        )
        ctx.memo[key] = found
    assert isinstance(found, _Verdict)
    return found


def _free(conditions: Expr, key: str) -> bool:
    """Is the request still possible with ``key`` absent, or with an unrelated value?"""
    return (
        resolve_keys(conditions, absent=[key]) is not False
        or resolve_keys(conditions, values={key: PROBE}) is not False
    )


def _details(t: _Trust, v: _Verdict, **extra: Any) -> dict[str, Any]:
    return {
        "role": t.role.arn,
        "trusted": t.entry,
        "effective": v.full.possible,
        "conditional": v.full.possible and v.full.residual is not True,
        "blocked_by": list(v.full.blocked_by),
        "conditions": v.policy.residual_json(),
        **extra,
    }


def _outside(ctx: ReviewContext) -> Iterator[tuple[_Trust, str, str, _Verdict]]:
    """Trusts to accounts (or their principals) outside the organization: (trust, account, node, verdict)."""
    for t in _trusts(ctx):
        m = _ACCOUNT.match(t.entry) if t.block == "aws" else None
        if not m:
            continue
        account = m.group(1) or m.group(2)
        if not ctx.outside(account):
            continue
        whole = m.group(1) is not None or m.group(3) == "root"
        node = f"arn:aws:iam::{account}:root" if whole else t.entry
        v = _verdict(ctx, t, external_principal(node), ASSUME)
        if v.policy.possible:
            yield t, account, node, v


def _org_words(ctx: ReviewContext) -> str:
    return "the organization" if ctx.snapshot.organization is not None else "the snapshot (no organization data)"


@register(
    "trust-outside-organization",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Role trusts an account outside the organization",
    description="A role trust policy lets an account (or a principal of an account) outside the organization "
    "assume the role; without organization data, outside the snapshot. Low when the organization's "
    "policies block it today.",
    remediation="Confirm the third party still needs access; require sts:ExternalId, scope the role's "
    "permissions, and remove trusts that are no longer used.",
    reads="authorization details, organization",
)
def trust_outside_org(ctx: ReviewContext) -> Iterator[Finding]:
    for t, account, node, v in _outside(ctx):
        yield ctx.finding(
            subject=t.role.arn,
            key=account,
            title=f"Role {t.role.name} trusts {account}, outside {_org_words(ctx)}"
            + ("" if v.full.possible else f" (blocked by {', '.join(v.full.blocked_by) or 'policy'})"),
            severity=None if v.full.possible else Severity.LOW,
            account=t.account,
            file=ctx.file(t.account, AUTHORIZATION),
            principals=[node, t.role.arn],
            statements=[st.ref.to_json() for st in t.statements],
            paths=ctx.hops(node, t.role.arn, EdgeKind.ASSUME),
            details=_details(t, v, account=account, in_organization=ctx.in_organization(account)),
        )


@register(
    "trust-without-external-id",
    family=FAMILY,
    severity=Severity.HIGH,
    title="Third-party trust without sts:ExternalId",
    description="A role trusted by an account outside the organization can be assumed without the right "
    "sts:ExternalId (the confused-deputy guard). Low when the organization's policies block it today.",
    remediation="Add a Condition StringEquals sts:ExternalId with the value the third party gave you.",
    reads="authorization details, organization",
)
def trust_without_external_id(ctx: ReviewContext) -> Iterator[Finding]:
    for t, account, node, v in _outside(ctx):
        if not _free(v.policy.residual, "sts:ExternalId"):
            continue
        yield ctx.finding(
            subject=t.role.arn,
            key=account,
            title=f"Role {t.role.name} trusts {account} without sts:ExternalId"
            + ("" if v.full.possible else f" (blocked by {', '.join(v.full.blocked_by) or 'policy'})"),
            severity=None if v.full.possible else Severity.LOW,
            account=t.account,
            file=ctx.file(t.account, AUTHORIZATION),
            principals=[node, t.role.arn],
            statements=[st.ref.to_json() for st in t.statements],
            paths=ctx.hops(node, t.role.arn, EdgeKind.ASSUME),
            details=_details(t, v, account=account),
        )


def _oidc(entry: str) -> str | None:
    """The claim prefix (issuer host) of a Federated entry; None for SAML providers."""
    if ":saml-provider/" in entry:
        return None
    if ":oidc-provider/" in entry:
        return entry.split(":oidc-provider/", 1)[1]
    return None if entry.startswith("arn:") else entry  # accounts.google.com, cognito-identity.amazonaws.com


def _oidc_trusts(ctx: ReviewContext) -> Iterator[tuple[_Trust, str, list[str], _Verdict]]:
    """OIDC trusts with the claims left unconstrained (of ``sub``/``aud``; Cognito: ``aud``)."""
    for t in _trusts(ctx):
        host = _oidc(t.entry) if t.block == "federated" else None
        if host is None:
            continue
        v = _verdict(ctx, t, provider_principal(t.entry), WEB_IDENTITY)
        if not v.policy.possible:
            continue
        claims = ("aud",) if host == "cognito-identity.amazonaws.com" else ("sub", "aud")
        yield t, host, [c for c in claims if _free(v.policy.residual, f"{host}:{c}")], v


@register(
    "oidc-trust-missing-condition",
    family=FAMILY,
    severity=Severity.CRITICAL,
    title="OIDC trust without an aud/sub condition",
    description="A role trusts an OIDC identity provider without constraining the token's subject (critical: "
    "any identity of that provider, e.g. any GitHub repository) or audience (medium).",
    remediation="Add StringEquals on <provider>:aud and StringEquals/StringLike on <provider>:sub naming the "
    "exact repositories, branches or environments allowed.",
    reads="authorization details",
)
def oidc_missing(ctx: ReviewContext) -> Iterator[Finding]:
    for t, host, missing, v in _oidc_trusts(ctx):
        if not missing:
            continue
        yield ctx.finding(
            subject=t.role.arn,
            key=t.entry,
            title=f"Role {t.role.name} trusts {host} without a {'/'.join(missing)} condition",
            severity=None if "sub" in missing else Severity.MEDIUM,
            account=t.account,
            file=ctx.file(t.account, AUTHORIZATION),
            principals=[t.entry, t.role.arn],
            statements=[st.ref.to_json() for st in t.statements],
            paths=ctx.hops(t.entry, t.role.arn, EdgeKind.ASSUME),
            details=_details(t, v, provider=t.entry, missing=missing),
        )


@register(
    "oidc-trust-broad-subject",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="OIDC trust with a wildcard subject",
    description="An OIDC trust whose sub condition is a wildcard pattern (e.g. repo:org/* lets every "
    "repository, branch and pull request of the organization in). High when the provider reaches admin.",
    remediation="Name the repository and ref or environment exactly (repo:org/app:ref:refs/heads/main, "
    "repo:org/app:environment:prod).",
    reads="authorization details, access graph",
)
def oidc_broad(ctx: ReviewContext) -> Iterator[Finding]:
    for t, host, missing, v in _oidc_trusts(ctx):
        if "sub" in missing:
            continue
        key = f"{host}:sub".lower()
        patterns = sorted(
            {
                value
                for a in atoms(v.policy.residual)
                if a.clause is not None and a.clause.key_lc == key and "Like" in a.clause.base
                for value in a.clause.values
                if "*" in value or "?" in value
            }
        )
        if not patterns:
            continue
        reach, escalation = ctx.admin_reach(t.entry)
        yield ctx.finding(
            subject=t.role.arn,
            key=t.entry,
            title=f"Role {t.role.name} trusts {host} for any subject like {', '.join(patterns)}"
            + (" (the provider reaches admin)" if reach else ""),
            severity=Severity.HIGH if reach else None,
            account=t.account,
            file=ctx.file(t.account, AUTHORIZATION),
            principals=[t.entry, t.role.arn],
            statements=[st.ref.to_json() for st in t.statements],
            paths=ctx.hops(t.entry, t.role.arn, EdgeKind.ASSUME) + escalation,
            details=_details(t, v, provider=t.entry, subjects=patterns, reaches_admin=bool(reach)),
        )


@register(
    "trust-to-anyone",
    family=FAMILY,
    severity=Severity.CRITICAL,
    title="Role trusts anyone",
    description='A trust policy with Principal "*" that any AWS account could satisfy (critical when nothing '
    "else is required, high when request conditions remain, low when the organization's policies block it).",
    remediation="Name the accounts or roles that may assume it; a wildcard principal needs an "
    "aws:PrincipalOrgID or aws:PrincipalAccount condition at least.",
    reads="authorization details",
)
def trust_to_anyone(ctx: ReviewContext) -> Iterator[Finding]:
    by_role: dict[str, list[_Trust]] = defaultdict(list)
    for t in _trusts(ctx):
        if t.block == "anyone":
            by_role[t.role.arn].append(t)
    for trusts in by_role.values():
        t = trusts[0]
        v = _verdict(ctx, t, anyone_principal(), ASSUME)
        if not v.policy.possible:
            continue
        yield ctx.finding(
            subject=t.role.arn,
            title=f"Role {t.role.name} can be assumed by any AWS account"
            + ("" if v.policy.residual is True else " meeting request conditions")
            + ("" if v.full.possible else f" (blocked by {', '.join(v.full.blocked_by) or 'policy'})"),
            severity=Severity.LOW if not v.full.possible else Severity.HIGH if v.policy.residual is not True else None,
            account=t.account,
            file=ctx.file(t.account, AUTHORIZATION),
            principals=[ANYONE, t.role.arn],
            statements=[st.ref.to_json() for st in t.statements],
            paths=ctx.hops(ANYONE, t.role.arn, EdgeKind.ASSUME),
            details=_details(t, v),
        )
