"""Resource policies: public ones (S3's definition of "public", applied to every resource policy),
grants to other accounts, and bucket policies whose Allow statements carry no condition. Whether a
grant works today is the evaluator's answer for an outside principal, with the resource's RCPs and the
bucket's Block Public Access setting, so a grant an RCP neutralises is reported as such."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from iamgraph.catalog import get_catalog
from iamgraph.edges.base import EdgeKind
from iamgraph.evaluation.request import Principal
from iamgraph.graph.estate import ResourceEntry
from iamgraph.graph.outside import ANYONE, anyone_principal, external_principal
from iamgraph.model.policy import Effect, Statement
from iamgraph.policy.public import public_statements
from iamgraph.review.context import RESOURCES, ReviewContext
from iamgraph.review.model import Finding, Severity
from iamgraph.review.probe import evaluate_outsider
from iamgraph.review.registry import register

FAMILY = "resources"
_ACCOUNT = re.compile(r"^(?:(\d{12})|arn:[\w-]+:(?:iam|sts)::(\d{12}):(.+))$")
_SEVERE = frozenset({"Write", "Permissions management"})


@dataclass(slots=True)
class _Effect:
    """What an outside principal can do today through some statements of a resource policy."""

    actions: dict[str, list[str]] = field(default_factory=dict)  # access level -> actions
    conditional: bool = False
    blocked_by: set[str] = field(default_factory=set)

    @property
    def effective(self) -> bool:
        return bool(self.actions)

    def to_json(self) -> dict[str, Any]:
        return {
            "effective": self.effective,
            "conditional": self.conditional,
            "actions": self.actions,
            "blocked_by": sorted(self.blocked_by) if not self.effective else [],
        }


def _policy_resources(ctx: ReviewContext) -> Iterator[tuple[str, ResourceEntry]]:
    """(account, entry) of every resources.json resource with a resource policy."""
    for account in ctx.accounts():
        for res in account.resources.values():
            entry = ctx.estate.resources.get(res.arn)
            if entry is not None and entry.policy is not None:
                yield account.id, entry


def _effect(ctx: ReviewContext, principal: Principal, statements: list[Statement], entry: ResourceEntry) -> _Effect:
    catalog = get_catalog()
    service = entry.arn.split(":")[2]
    assert entry.policy is not None
    others = [*entry.policy.statements, *(st for lvl in entry.rcps for p in lvl.policies for st in p.statements)]
    out = _Effect()
    for st in statements:
        actions = [a for a in catalog.expand(f"{service}:*") if st.action_matcher.matches(a)]
        named = [r for r in (st.resources or ()) if r != "*"] if not st.not_resource else []
        for target in named or [entry.arn]:
            classes: dict[tuple[bool, ...], list[str]] = {}
            for a in actions:
                classes.setdefault(tuple(o.action_matcher.matches(a) for o in others), []).append(a)
            for members in classes.values():
                ctx.tick()
                d = evaluate_outsider(ctx.estate, principal, members[0], target, entry)
                if not d.possible:
                    out.blocked_by.update(d.blocked_by or ("no grant",))
                    continue
                out.conditional = out.conditional or d.residual is not True
                for a in members:
                    level = catalog.access_level(a)
                    found = out.actions.setdefault(level.value if level else "Unknown", [])
                    if a not in found:
                        found.append(a)
    return out


@register(
    "public-resource-policy",
    family=FAMILY,
    severity=Severity.HIGH,
    title="Public resource policy",
    description='A resource policy statement with Principal "*" that no condition pins to an account, '
    "organization, network or source (S3's definition of public). Critical when anyone can write or change "
    "permissions today; low when RCPs, Block Public Access or denies neutralise it.",
    remediation="Name the principals (accounts, roles) or pin the grant with aws:PrincipalOrgID, "
    "aws:SourceVpce or aws:SourceArn; keep S3 Block Public Access on where nothing must be public.",
    reads="resources.json, organization (RCPs)",
)
def public_policy(ctx: ReviewContext) -> Iterator[Finding]:
    for account, entry in _policy_resources(ctx):
        assert entry.policy is not None
        public = [entry.policy.statements[i] for i in public_statements(entry.policy)]
        if not public:
            continue
        effect = _effect(ctx, anyone_principal(), public, entry)
        severe = _SEVERE & set(effect.actions) and not effect.conditional
        level = Severity.CRITICAL if severe else None if effect.effective else Severity.LOW
        what = ", ".join(f"{len(v)} {k}" for k, v in sorted(effect.actions.items())) or "nothing today"
        yield ctx.finding(
            subject=entry.arn,
            title=f"{entry.type.split('::')[-1]} {_short(entry.arn)} has a public policy: anyone can {what}"
            + (" (under conditions)" if effect.conditional else "")
            + ("" if effect.effective else f" (blocked by {', '.join(sorted(effect.blocked_by))})"),
            severity=level,
            account=account,
            file=ctx.file(account, RESOURCES),
            principals=[ANYONE],
            resources=[entry.arn],
            statements=[st.ref.to_json() for st in public],
            paths=ctx.hops(ANYONE, entry.arn, EdgeKind.ACCESS),
            details={"type": entry.type, **effect.to_json()},
        )


def _short(arn: str) -> str:
    return arn.split(":", 5)[-1]


@register(
    "cross-account-resource-policy",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Resource policy grants another account",
    description="A resource policy names a principal of an account outside the organization (medium; low "
    "when it does not work today) or of another account of the organization (info).",
    remediation="Confirm the grant is needed and scoped (actions, resources, aws:SourceArn / "
    "aws:PrincipalArn conditions); remove grants to accounts you no longer work with.",
    reads="resources.json, organization (RCPs)",
)
def cross_account_policy(ctx: ReviewContext) -> Iterator[Finding]:
    for account, entry in _policy_resources(ctx):
        assert entry.policy is not None
        by_account: dict[str, tuple[str, list[Statement]]] = {}
        for st in entry.policy.statements:
            if st.effect is not Effect.ALLOW or st.principal is None:
                continue
            for name in st.principal.aws:
                m = _ACCOUNT.match(name)
                other = (m.group(1) or m.group(2)) if m else None
                if other is None or other == entry.account:
                    continue
                whole = m is not None and (m.group(1) is not None or m.group(3) == "root")
                node = f"arn:aws:iam::{other}:root" if whole else name
                by_account.setdefault(other, (node, []))[1].append(st)
        for other, (node, statements) in sorted(by_account.items()):
            outside = ctx.outside(other)
            effect = _effect(ctx, external_principal(node), statements, entry) if outside else None
            level = Severity.INFO if not outside else None if effect and effect.effective else Severity.LOW
            yield ctx.finding(
                subject=entry.arn,
                key=other,
                title=f"{entry.type.split('::')[-1]} {_short(entry.arn)} grants account {other}"
                + (" outside the organization" if outside else " of the organization")
                + (
                    ""
                    if effect is None or effect.effective
                    else f" (blocked by {', '.join(sorted(effect.blocked_by))})"
                ),
                severity=level,
                account=account,
                file=ctx.file(account, RESOURCES),
                principals=[node],
                resources=[entry.arn],
                statements=[st.ref.to_json() for st in statements],
                paths=ctx.hops(node, entry.arn, EdgeKind.ACCESS),
                details={
                    "type": entry.type,
                    "grantee": other,
                    "outside": outside,
                    **(effect.to_json() if effect else {}),
                },
            )


@register(
    "bucket-policy-without-conditions",
    family=FAMILY,
    severity=Severity.LOW,
    title="Bucket policy Allow without conditions",
    description="An S3 bucket policy statement that allows without any Condition (no source, organization, "
    "TLS or encryption constraint).",
    remediation="Add the conditions that describe legitimate access (aws:PrincipalOrgID, aws:SourceVpce, "
    "aws:SourceArn, aws:SecureTransport) or narrow the principals and actions.",
    reads="resources.json",
)
def bucket_without_conditions(ctx: ReviewContext) -> Iterator[Finding]:
    for account, entry in _policy_resources(ctx):
        if entry.type != "AWS::S3::Bucket":
            continue
        assert entry.policy is not None
        bare = [st for st in entry.policy.statements if st.effect is Effect.ALLOW and not st.conditions]
        if not bare:
            continue
        labels = ", ".join(st.ref.label for st in bare)
        yield ctx.finding(
            subject=entry.arn,
            title=f"Bucket {_short(entry.arn)}: {len(bare)} Allow statement(s) without conditions ({labels})",
            account=account,
            file=ctx.file(account, RESOURCES),
            resources=[entry.arn],
            statements=[st.ref.to_json() for st in bare],
            details={
                "statements": [
                    {
                        "sid": st.sid,
                        "index": st.ref.index,
                        "actions": list(st.actions),
                        "principal_wildcard": bool(st.principal and st.principal.wildcard),
                    }
                    for st in bare
                ]
            },
        )
