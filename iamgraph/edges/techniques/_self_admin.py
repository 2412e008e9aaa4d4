"""One-step admins: principals that can make themselves admin with a single IAM write.

The issue counts them as admins, as PMapper does: edges from them within their own account add
nothing (they can do everything there), so the techniques skip those and emit only their self grant.
Checked, cheapest first: a Put/Attach policy on oneself or on one's own group, a new version of a
customer managed policy one holds, joining a group that would make one admin. Only unconditional
routes count, within the principal's SCPs and RCPs; a conditional one keeps the principal's other edges.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from iamgraph.graph.admin import SENTINEL_ACTIONS
from iamgraph.graph.estate import PrincipalEntry
from iamgraph.model.policy import Effect

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_ALLOW = Effect.ALLOW

if TYPE_CHECKING:
    from iamgraph.edges.techniques._privesc import PrivescIndex

__all__ = ["one_step_admin"]

_PROBE = SENTINEL_ACTIONS[-1]
_MAX_VERSIONS = 5


def one_step_admin(idx: PrivescIndex, p: PrincipalEntry) -> bool:
    """``p`` can make itself admin, unconditionally, with one IAM write."""
    for action, target, without in _writes(idx, p):
        d = idx.on_target(p, action, target, account=p.account)
        if d is not None and d.residual is True:
            verdict = idx.admin_with_written_policy(p, without=without, org_policies=True)
            if verdict.admin and verdict.conditions is True:
                return True
    return _joins_admin_group(idx, p)


def _writes(idx: PrivescIndex, p: PrincipalEntry) -> Iterator[tuple[str, str, str | None]]:
    """(action, resource, policy replaced) for the self writes ``p``'s identity policies name."""
    account = idx.account(p.account)
    may = idx.estate.may_allow
    if p.kind == "user":
        for action in ("iam:PutUserPolicy", "iam:AttachUserPolicy"):
            if may(p.arn, action):
                yield action, p.arn, None
        for group in account.users[p.arn].group_arns:
            for action in ("iam:PutGroupPolicy", "iam:AttachGroupPolicy"):
                if may(p.arn, action):
                    yield action, group, None
    else:
        for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy"):
            if may(p.arn, action):
                yield action, p.arn, None
    if may(p.arn, "iam:CreatePolicyVersion"):
        for pol in p.identity:
            mp = account.managed_policies.get(pol.name)
            if mp is not None and not mp.aws_managed and len(mp.other_versions) + 1 < _MAX_VERSIONS:
                yield "iam:CreatePolicyVersion", mp.arn, mp.arn


def _joins_admin_group(idx: PrivescIndex, p: PrincipalEntry) -> bool:
    if p.kind != "user" or not idx.estate.may_allow(p.arn, "iam:AddUserToGroup"):
        return False
    account = idx.account(p.account)
    for group in account.groups.values():
        if p.arn in group.member_arns:
            continue
        policies = account.identity_policies(group.arn)
        if not any(
            st.ref.effect is _ALLOW and st.action_matcher.matches(_PROBE) for pol in policies for st in pol.statements
        ):
            continue
        d = idx.on_target(p, "iam:AddUserToGroup", group.arn, account=p.account)
        if d is not None and d.residual is True:
            verdict = idx.admin_if(p, ("group", group.arn), identity=(*p.identity, *policies), org_policies=True)
            if verdict.admin and verdict.conditions is True:
                return True
    return False
