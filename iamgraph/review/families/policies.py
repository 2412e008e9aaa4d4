"""Groups and policies: users with their own policies, inline policies a managed policy would replace,
and customer-authored policies that grant far too much (``*`` on ``*``, ``iam:*``, ``iam:PassRole`` on
every role, ``NotAction`` allows). What a statement covers is asked of its compiled matchers and of the
action catalogue, the way the evaluator reads it (including wildcards and NotResource)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from iamgraph.catalog import get_catalog
from iamgraph.evaluation.context import Context
from iamgraph.model.policy import Effect, Policy, Statement
from iamgraph.model.snapshot import Account, Group, InlinePolicy, Role, User
from iamgraph.review.context import AUTHORIZATION, ReviewContext
from iamgraph.review.model import Finding, Severity
from iamgraph.review.registry import register

FAMILY = "policies"
_PROBE_ACTION = "iamgraphreview:ActionNoPolicyNames"  # only a full wildcard Action matches it
_UNKNOWN = Context.build({}, unknown="*").lookup  # policy variables stay unknown: they cover nothing for sure


@dataclass(frozen=True, slots=True)
class _Owned:
    """An inline policy with the entity that holds it."""

    owner: str
    kind: str  # user | group | role
    inline: InlinePolicy


def _inline_policies(account: Account) -> Iterator[_Owned]:
    for user in account.users.values():
        yield from (_Owned(user.arn, "user", p) for p in user.inline_policies)
    for group in account.groups.values():
        yield from (_Owned(group.arn, "group", p) for p in group.inline_policies)
    for role in account.roles.values():
        if not role.service_linked:  # AWS owns service-linked roles and their policies
            yield from (_Owned(role.arn, "role", p) for p in role.inline_policies)


@register(
    "user-direct-policies",
    family=FAMILY,
    severity=Severity.LOW,
    title="User with its own policies instead of group membership",
    description="A user with inline policies or directly attached managed policies; permissions granted "
    "through groups are easier to review and to take away.",
    remediation="Put the permissions on a group (or a role the user assumes) and remove the user's own policies.",
    reads="authorization details",
)
def user_direct_policies(ctx: ReviewContext) -> Iterator[Finding]:
    for account in ctx.accounts():
        for user in account.users.values():
            if not (user.inline_policies or user.attached_policy_arns):
                continue
            parts = [f"{len(user.inline_policies)} inline"] if user.inline_policies else []
            parts += [f"{len(user.attached_policy_arns)} attached"] if user.attached_policy_arns else []
            yield ctx.finding(
                subject=user.arn,
                title=f"User {user.name} has policies of its own ({', '.join(parts)})",
                account=account.id,
                file=ctx.file(account.id, AUTHORIZATION),
                principals=[user.arn, *user.group_arns],
                statements=[st.ref.to_json() for pol in _own_policies(account, user) for st in pol.statements],
                details={
                    "inline": [f"{user.arn}/inline/{p.name}" for p in user.inline_policies],
                    "attached": list(user.attached_policy_arns),
                    "groups": list(user.group_arns),
                },
            )


def _own_policies(account: Account, user: User) -> list[Policy]:
    """A user's inline policies and directly attached managed policies (not its groups')."""
    inline = [p.policy for p in user.inline_policies]
    return inline + [account.managed_policies[a].policy for a in user.attached_policy_arns]


def _canonical(policy: Policy) -> str:
    return json.dumps(policy.raw, sort_keys=True, separators=(",", ":"))


def _names_owner(policy: Policy, owner: str) -> bool:
    """Does a statement name its own entity's ARN (a one-to-one policy that fits nowhere else)?"""
    return any(owner in (st.resources or ()) for st in policy.statements)


@register(
    "inline-policy",
    family=FAMILY,
    severity=Severity.INFO,
    title="Inline policy where a customer managed policy would do",
    description="An inline policy of a user, group or role that does not name its own entity (so nothing ties "
    "it to that entity). Low when the same document is inline on several entities.",
    remediation="Replace it by a customer managed policy: versioned, reusable, and visible in one place.",
    reads="authorization details",
)
def inline_policy(ctx: ReviewContext) -> Iterator[Finding]:
    for account in ctx.accounts():
        owned = list(_inline_policies(account))
        copies: dict[str, list[str]] = defaultdict(list)
        for o in owned:
            copies[_canonical(o.inline.policy)].append(o.inline.policy.name)
        for o in owned:
            policy = o.inline.policy
            if _names_owner(policy, o.owner):
                continue
            others = [n for n in copies[_canonical(policy)] if n != policy.name]
            yield ctx.finding(
                subject=policy.name,
                title=f"Inline policy {o.inline.name} of {o.kind} {ctx.label(o.owner)}"
                + (
                    f" (same document inline on {len(others)} other entit{'y' if len(others) == 1 else 'ies'})"
                    if others
                    else ""
                ),
                severity=Severity.LOW if others else None,
                account=account.id,
                file=ctx.file(account.id, AUTHORIZATION),
                principals=[o.owner],
                statements=[st.ref.to_json() for st in policy.statements],
                details={
                    "owner": o.owner,
                    "owner_kind": o.kind,
                    "same_document": others,
                },
            )


# ---- overly broad policies ------------------------------------------------------------------


def _covers(st: Statement, pattern: str) -> bool:
    """Does the statement's Resource (or NotResource) element apply to every resource of ``pattern``?"""
    return st.resource_matcher is not None and st.resource_matcher.match(pattern, _UNKNOWN, deny=True).matched


def _breadth(st: Statement, account: str) -> str | None:
    """The broadest grant pattern of an Allow statement, most severe first."""
    if st.effect is not Effect.ALLOW:
        return None
    if not st.not_action and st.action_matcher.matches(_PROBE_ACTION) and _covers(st, "*"):
        return "full-admin"
    iam = get_catalog().expand("iam:*")
    if not st.not_action and iam and all(st.action_matcher.matches(a) for a in iam):
        return "iam-all"
    if st.not_action:
        return "not-action"
    if st.action_matcher.matches("iam:PassRole") and _covers(st, f"arn:aws:iam::{account}:role/*"):
        return "passrole-any"
    return None


_BREADTH = {
    "full-admin": (Severity.HIGH, '"*" on "*"'),
    "iam-all": (Severity.HIGH, "every IAM action"),
    "not-action": (Severity.MEDIUM, "everything but a list (NotAction)"),
    "passrole-any": (Severity.MEDIUM, "iam:PassRole on every role"),
}


def _statement_json(st: Statement, kind: str) -> dict[str, Any]:
    return {
        "sid": st.sid,
        "index": st.ref.index,
        "pattern": kind,
        "actions": list(st.actions),
        "not_action": st.not_action,
        "resources": list(st.resources or ()),
        "not_resource": st.not_resource,
        "conditions": [c.to_json() for c in st.conditions],
    }


def _customer_policies(account: Account) -> Iterator[tuple[Policy, list[str], str]]:
    """(policy, entities it is attached to, how it is used) for customer-authored identity policies."""
    attached: dict[str, list[str]] = defaultdict(list)
    entities: list[User | Group | Role] = [*account.users.values(), *account.groups.values(), *account.roles.values()]
    for entity in entities:
        for policy_arn in entity.attached_policy_arns:
            attached[policy_arn].append(entity.arn)
    principals: list[User | Role] = [*account.users.values(), *account.roles.values()]
    boundary = {p.boundary_arn for p in principals if p.boundary_arn}
    for mp in account.managed_policies.values():
        if mp.aws_managed:
            continue
        if mp.arn in attached:
            yield mp.policy, attached[mp.arn], "attached"
        elif mp.arn not in boundary:  # a boundary's Allow grants nothing by itself
            yield mp.policy, [], "unattached"
    for o in _inline_policies(account):
        yield o.inline.policy, [o.owner], "inline"


@register(
    "broad-policy",
    family=FAMILY,
    severity=Severity.HIGH,
    title="Overly broad customer policy",
    description='A customer managed or inline policy that allows "*" on "*", every IAM action, iam:PassRole '
    "on every role of the account, or everything but a list (NotAction). One step lower when the statement "
    "has conditions; low when the policy is attached nowhere.",
    remediation="Grant the actions and resources the job needs; scope iam:PassRole to named roles with an "
    "iam:PassedToService condition; prefer Action lists over NotAction.",
    reads="authorization details, action catalogue",
)
def broad_policy(ctx: ReviewContext) -> Iterator[Finding]:
    for account in ctx.accounts():
        for policy, holders, usage in _customer_policies(account):
            hits = [(st, kind) for st in policy.statements if (kind := _breadth(st, account.id)) is not None]
            if not hits:
                continue
            levels = [_BREADTH[k][0].lowered() if st.conditions else _BREADTH[k][0] for st, k in hits]
            level = max(levels, key=lambda s: s.rank)
            if usage == "unattached":
                level = Severity.LOW
            worst = min((k for _, k in hits), key=list(_BREADTH).index)
            yield ctx.finding(
                subject=policy.name,
                title=f"{'Inline' if usage == 'inline' else 'Customer managed'} policy {policy.name.rsplit('/', 1)[-1]}"
                f" allows {_BREADTH[worst][1]}" + (" (attached nowhere)" if usage == "unattached" else ""),
                severity=level,
                account=account.id,
                file=ctx.file(account.id, AUTHORIZATION),
                principals=holders,
                statements=[st.ref.to_json() for st, _ in hits],
                details={
                    "usage": usage,
                    "attached_to": holders,
                    "statements": [_statement_json(st, k) for st, k in hits],
                },
            )
