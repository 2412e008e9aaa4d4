"""Sensitive actions without MFA: for each IAM user, the configured sensitive actions its policies (with
boundary and SCPs) allow when the request carries no MFA. Decided by the evaluator: the decision's residual
conditions are resolved with ``aws:MultiFactorAuthPresent`` false (a console session without MFA) and
absent (long-term access keys), so ``Bool`` and ``BoolIfExists`` conditions count as AWS counts them.
Roles are not assessed here: MFA for a role session is decided where it is assumed (its trust policy)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamgraph.catalog import get_catalog
from iamgraph.review.context import AUTHORIZATION, ReviewContext
from iamgraph.review.model import Finding, Severity
from iamgraph.review.probe import resolve_keys
from iamgraph.review.registry import register

FAMILY = "mfa"
MFA_KEYS = ("aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge")


@register(
    "sensitive-action-without-mfa",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Sensitive actions allowed without MFA",
    description="An IAM user may perform configured sensitive actions (credentials, policies, trust, "
    "guardrails, deletion) without MFA: no Allow requires aws:MultiFactorAuthPresent and no Deny "
    "(BoolIfExists ... false) stops requests without it.",
    remediation="Require MFA for these actions: an Allow with Bool aws:MultiFactorAuthPresent true, or a Deny "
    "with BoolIfExists aws:MultiFactorAuthPresent false (which also covers access keys).",
    reads="authorization details, organization (SCPs)",
)
def sensitive_without_mfa(ctx: ReviewContext) -> Iterator[Finding]:
    catalog = get_catalog()
    actions = ctx.config.sensitive_actions
    for entry in ctx.estate.users():
        allowed: dict[str, str] = {}
        statements: list[dict[str, Any]] = []
        for action in actions:
            ctx.tick()
            resource = "*" if catalog.is_wildcard_only(action) else "arn:*"
            d = ctx.estate.evaluate(entry, action, resource, resource_account=entry.account)
            if not d.possible:
                continue
            no_mfa = resolve_keys(d.residual, values={MFA_KEYS[0]: "false"}, absent=[MFA_KEYS[1]])
            keys_only = resolve_keys(d.residual, absent=MFA_KEYS)
            if no_mfa is False and keys_only is False:
                continue
            ways = [w for w, r in (("console session", no_mfa), ("access key", keys_only)) if r is not False]
            allowed[action] = " and ".join(ways)
            statements.extend(m.to_json() for m in d.deciding())
        if not allowed:
            continue
        name = ctx.label(entry.arn)
        yield ctx.finding(
            subject=entry.arn,
            title=f"User {name} may perform {len(allowed)} sensitive action(s) without MFA: "
            + ", ".join(sorted(allowed)[:4])
            + (", ..." if len(allowed) > 4 else ""),
            account=entry.account,
            file=ctx.file(entry.account, AUTHORIZATION),
            principals=[entry.arn],
            statements=statements,
            details={"actions": dict(sorted(allowed.items())), "checked": list(actions)},
        )
