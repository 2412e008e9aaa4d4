"""The root user: no access keys, MFA on, and not used for daily work (credential report, account summary)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamgraph.review.context import CREDENTIALS, INFO, ReviewContext
from iamgraph.review.dates import age_days
from iamgraph.review.families._report import credentials
from iamgraph.review.model import Finding, Severity
from iamgraph.review.registry import register

FAMILY = "root"


def _root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def _summary_only(ctx: ReviewContext) -> Iterator[tuple[str, dict[str, Any]]]:
    """Accounts without a credential report but with an account summary (``account.json``); accounts with
    neither are recorded as not assessed."""
    for account in ctx.accounts():
        if account.credential_report is not None:
            continue
        if account.summary is None:
            ctx.skip(f"no {CREDENTIALS} and no account summary in {INFO}", account=account.id)
        else:
            yield account.id, dict(account.summary)


@register(
    "root-access-key",
    family=FAMILY,
    severity=Severity.CRITICAL,
    title="Root user has an access key",
    description="An active access key of the root user (credential report; AccountAccessKeysPresent of the "
    "account summary when there is no report).",
    remediation="Delete the root user's access keys; use roles or IAM Identity Center for automation and "
    "administration.",
    reads="credential report or account summary",
)
def root_access_key(ctx: ReviewContext) -> Iterator[Finding]:
    for c in credentials(ctx, root=True, note_missing=False):
        if c.active_keys:
            used = [k.last_used.date().isoformat() for k in c.active_keys if k.last_used]
            yield ctx.finding(
                subject=c.arn,
                title=f"Root user of {c.account} has {len(c.active_keys)} active access key(s)"
                + (f", last used {max(used)}" if used else ""),
                account=c.account,
                file=ctx.file(c.account, CREDENTIALS),
                principals=[c.arn],
                details={"keys": [k.to_json() for k in c.active_keys]},
            )
    for account, summary in _summary_only(ctx):
        if summary.get("AccountAccessKeysPresent", 0) > 0:
            yield ctx.finding(
                subject=_root(account),
                title=f"Root user of {account} has an access key (account summary)",
                account=account,
                file=ctx.file(account, INFO),
                principals=[_root(account)],
                details={"AccountAccessKeysPresent": summary["AccountAccessKeysPresent"]},
            )


@register(
    "root-mfa-disabled",
    family=FAMILY,
    severity=Severity.CRITICAL,
    title="Root user without MFA",
    description="The root user has no MFA device (credential report; AccountMFAEnabled of the account summary "
    "when there is no report).",
    remediation="Enable MFA on the root user (a hardware key or a virtual device kept offline).",
    reads="credential report or account summary",
)
def root_mfa(ctx: ReviewContext) -> Iterator[Finding]:
    for c in credentials(ctx, root=True, note_missing=False):
        if not c.mfa:
            yield ctx.finding(
                subject=c.arn,
                title=f"Root user of {c.account} has no MFA device",
                account=c.account,
                file=ctx.file(c.account, CREDENTIALS),
                principals=[c.arn],
                details=c.password_json(),
            )
    for account, summary in _summary_only(ctx):
        if summary.get("AccountMFAEnabled") == 0:
            yield ctx.finding(
                subject=_root(account),
                title=f"Root user of {account} has no MFA device (account summary)",
                account=account,
                file=ctx.file(account, INFO),
                principals=[_root(account)],
                details={"AccountMFAEnabled": 0},
            )


@register(
    "root-recently-used",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Root user used recently",
    description="The root user's password or an access key was used within root_recent_days of the as-of time.",
    remediation="Keep the root user for the few tasks that need it; use roles or IAM Identity Center for "
    "administration, and alert on root sign-in.",
    reads="credential report and an as-of time",
)
def root_recently_used(ctx: ReviewContext) -> Iterator[Finding]:
    as_of, days = ctx.as_of, ctx.config.root_recent_days
    if as_of is None:
        ctx.skip("no as-of time (pass --as-of)")
        return
    for c in credentials(ctx, root=True):
        uses = {"password": c.password_last_used} | {k.label: k.last_used for k in c.keys}
        recent = {name: t for name, t in uses.items() if t is not None and 0 <= age_days(t, as_of) <= days}
        if recent:
            yield ctx.finding(
                subject=c.arn,
                title=f"Root user of {c.account} used within {days} days ({', '.join(sorted(recent))})",
                account=c.account,
                file=ctx.file(c.account, CREDENTIALS),
                principals=[c.arn],
                details={"last_used": {k: v.isoformat() for k, v in sorted(recent.items())}, "days": days},
            )
