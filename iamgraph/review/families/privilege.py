"""Least privilege, read from the graph: admin-equivalent principals (directly, or in one self-granting
step), principals that reach admin by escalation (the privesc query), and non-admins holding
"Permissions management" actions (the access-levels query over the action catalogue)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamgraph.catalog import get_catalog
from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries.base import admin_state, hop_json
from iamgraph.graph.queries.exposure import OUTSIDE_KINDS
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.policy.logic import expr_to_json
from iamgraph.review.context import AUTHORIZATION, ReviewContext
from iamgraph.review.model import Finding, Severity
from iamgraph.review.registry import register

_KEEP = WhatIf()  # the review reads the snapshot as it is: conditions stay open

FAMILY = "least-privilege"
PM = "Permissions management"
_IAM_SERVICES = frozenset({"iam", "organizations", "sso", "identitystore"})


def _account_of(ctx: ReviewContext, node: str) -> str | None:
    account = ctx.graph.nodes[node].get("account") if node in ctx.graph else None
    return str(account) if account else None


def _file(ctx: ReviewContext, node: str) -> str | None:
    account = _account_of(ctx, node)
    return ctx.file(account, AUTHORIZATION) if account and account in ctx.snapshot.accounts else None


def _proof_statements(paths: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for path in paths for hop in path["hops"] for p in hop.get("proof", [])]


@register(
    "admin-principal",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Admin-equivalent principal",
    description="A user or role whose effective permissions allow every action on every resource (graph "
    "admin mark, with the deciding statements), or that can grant itself that in one step (high).",
    remediation="Keep admins few, named and short-lived (break-glass roles with MFA); give everyone else the "
    "permissions of their job.",
    reads="access graph",
)
def admin_principal(ctx: ReviewContext) -> Iterator[Finding]:
    for node in sorted(ctx.graph.nodes):
        data = ctx.graph.nodes[node]
        if not data.get("admin") or data.get("kind") not in (NodeKind.USER, NodeKind.ROLE):
            continue
        ctx.tick()
        via = str(data.get("admin_via", "permissions"))
        one_step = via != "permissions"
        conditions = list(data.get("admin_conditions") or [])
        paths: list[dict[str, Any]] = []
        if one_step:
            grants = [e for e in ctx.analysis.graph.edges_between(node, node) if e.kind is EdgeKind.GRANT]
            paths = [{"conditional": e.conditional, "hops": [hop_json(e, e.conditions)]} for e in grants]
        kind = str(data.get("kind"))
        title = f"{kind.capitalize()} {data.get('name', node)} is admin-equivalent"
        if one_step:
            title = f"{kind.capitalize()} {data.get('name', node)} can make itself admin in one step ({via})"
        yield ctx.finding(
            subject=node,
            title=title + (" (under conditions)" if conditions else ""),
            severity=Severity.HIGH if one_step else None,
            account=_account_of(ctx, node),
            file=_file(ctx, node),
            principals=[node],
            statements=list(data.get("admin_proof") or []),
            paths=paths,
            details={"admin_via": via, "conditions": conditions},
        )


@register(
    "escalation-path",
    family=FAMILY,
    severity=Severity.HIGH,
    title="Principal can escalate to admin",
    description="A non-admin principal (or an outsider: another account, an identity provider, anyone) "
    "that reaches an admin through the graph's edges (privesc query); critical for outsiders.",
    remediation="Break the path at its weakest hop: the statement in each hop's proof is what to narrow "
    "(resource scope, iam:PassedToService, trust conditions, permissions boundaries).",
    reads="access graph",
)
def escalation_path(ctx: ReviewContext) -> Iterator[Finding]:
    for esc in ctx.privesc()["escalations"]:
        node = str(esc["principal"])
        kind = ctx.graph.nodes[node].get("kind")
        outsider = kind in OUTSIDE_KINDS
        hops = esc["path"]
        reached = str(hops[-1]["target"]) if hops else node
        path = {"conditional": esc["conditional"], "hops": hops}
        techniques = " -> ".join(str(h["technique"]) for h in hops)
        inside = node if _file(ctx, node) or not hops else str(hops[0]["target"])  # outsiders: where they enter
        yield ctx.finding(
            subject=node,
            title=f"{ctx.label(node)} reaches admin {ctx.label(reached)} in {len(hops)} step(s): {techniques}"
            + (" (conditional)" if esc["conditional"] else ""),
            severity=Severity.CRITICAL if outsider else None,
            account=_account_of(ctx, inside),
            file=_file(ctx, inside),
            principals=[node, reached],
            statements=_proof_statements([path]),
            paths=[path],
            details={
                "kind": str(kind),
                "outsider": outsider,
                "conditional": esc["conditional"],
                "reaches": reached,
                "steps": len(hops),
            },
        )


def _reviewable(ctx: ReviewContext) -> Iterator[str]:
    """Users and roles whose access summary a review shows (service-linked roles are AWS's)."""
    for p in ctx.estate.acting_principals():
        entity = p.entity
        if entity is not None and getattr(entity, "service_linked", False):
            continue
        yield p.arn


@register(
    "permissions-management",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Non-admin principal with Permissions management actions",
    description='A non-admin user or role allowed actions of the catalogue\'s "Permissions management" access '
    "level (policies, trust, key policies, resource sharing...). Medium for IAM, Organizations and Identity "
    "Center actions, low for other services' actions.",
    remediation="Move permission changes to a few audited roles; scope what remains with resource ARNs, "
    "conditions and permissions boundaries.",
    reads="authorization details, action catalogue (needs the access summary)",
)
def permissions_management(ctx: ReviewContext) -> Iterator[Finding]:
    if not ctx.config.access_summary:
        ctx.skip("the access summary is off (--no-access-summary)")
        return
    catalog = get_catalog()
    for arn in _reviewable(ctx):
        if ctx.is_admin(arn):
            continue
        levels = ctx.access_levels(arn)
        held: dict[str, list[str]] = {}
        for service, by_level in levels["services"].items():
            states = by_level.get(PM, {})
            actions = sorted({*states.get("allowed", []), *states.get("conditional", [])})
            if actions:
                held[service] = actions
        if not held:
            continue
        entry = ctx.estate.principals[arn]
        statements: list[dict[str, Any]] = []
        for actions in held.values():
            action = actions[0]
            resource = "*" if catalog.is_wildcard_only(action) else "arn:*"
            d = ctx.estate.evaluate(entry, action, resource, resource_account=entry.account)
            statements.extend(m.to_json() for m in d.deciding())
        count = sum(len(a) for a in held.values())
        services = sorted(held)
        where = ", ".join(services[:5]) + (f" and {len(services) - 5} more services" if len(services) > 5 else "")
        yield ctx.finding(
            subject=arn,
            title=f"{entry.kind.capitalize()} {ctx.label(arn)} holds {count} Permissions management action(s) "
            f"in {where}",
            severity=Severity.MEDIUM if _IAM_SERVICES & set(held) else Severity.LOW,
            account=entry.account,
            file=ctx.file(entry.account, AUTHORIZATION),
            principals=[arn],
            statements=statements,
            details={"actions": held, "count": count},
        )


def access_summary(ctx: ReviewContext) -> list[dict[str, Any]]:
    """Per user and role: totals by access level (admins: every action, not counted; ``admin_conditions``
    for an admin only under conditions, as privesc lists them)."""
    out: list[dict[str, Any]] = []
    for arn in _reviewable(ctx):
        entry = ctx.estate.principals[arn]
        item: dict[str, Any] = {"principal": arn, "kind": entry.kind, "account": entry.account}
        if ctx.is_admin(arn):
            item.update(admin=True, totals=None)
            state = admin_state(ctx.graph.nodes[arn], _KEEP)
            if state is not True:  # admin only under these conditions (MFA present, say)
                item["admin_conditions"] = [expr_to_json(state)]
        else:
            levels = ctx.access_levels(arn)
            item.update(admin=False, totals=levels["totals"])
        out.append(item)
    return out
