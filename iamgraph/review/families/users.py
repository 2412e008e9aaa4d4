"""IAM users' credentials (credential report): MFA on console users, unused and unrotated credentials,
several active keys, console users that also carry keys they do not use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iamgraph.review.context import CREDENTIALS, ReviewContext
from iamgraph.review.dates import age_days
from iamgraph.review.families._report import credentials, unused_for
from iamgraph.review.model import Finding, Severity
from iamgraph.review.registry import register

FAMILY = "users"
_NO_AS_OF = "no as-of time (pass --as-of)"


@register(
    "user-console-without-mfa",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Console user without MFA",
    description="A user with a console password and no MFA device. High when the graph shows the user is "
    "admin or can reach admin.",
    remediation="Require an MFA device for every console user (and deny actions without "
    "aws:MultiFactorAuthPresent); better, move people to IAM Identity Center.",
    reads="credential report, access graph",
)
def console_without_mfa(ctx: ReviewContext) -> Iterator[Finding]:
    for c in credentials(ctx, root=False):
        if not c.password_enabled or c.mfa:
            continue
        reach, paths = ctx.admin_reach(c.arn)
        title = f"Console user {c.user} has no MFA device"
        if reach:
            title += " and is admin" if reach == "admin" else " and can reach admin"
        yield ctx.finding(
            subject=c.arn,
            title=title,
            severity=Severity.HIGH if reach else None,
            account=c.account,
            file=ctx.file(c.account, CREDENTIALS),
            principals=[c.arn],
            paths=paths,
            details={**c.password_json(), "admin": reach},
        )


@register(
    "user-credential-unused",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Credential unused for longer than the threshold",
    description="An enabled console password or active access key not used within unused_days of the as-of "
    "time (or never used and older than that).",
    remediation="Remove the password or deactivate and delete the key; unused credentials are only a risk.",
    reads="credential report and an as-of time",
)
def credential_unused(ctx: ReviewContext) -> Iterator[Finding]:
    as_of, days = ctx.as_of, ctx.config.unused_days
    if as_of is None:
        ctx.skip(_NO_AS_OF)
        return
    for c in credentials(ctx, root=False):
        unused: dict[str, str] = {}
        if c.password_enabled:
            why = unused_for(c.password_last_used, c.password_set, as_of, days)
            if why:
                unused["password"] = why
        for k in c.active_keys:
            why = unused_for(k.last_used, k.last_rotated, as_of, days)
            if why:
                unused[k.label] = why
        if unused:
            yield ctx.finding(
                subject=c.arn,
                title=f"{c.user}: {', '.join(unused)} unused for more than {days} days",
                account=c.account,
                file=ctx.file(c.account, CREDENTIALS),
                principals=[c.arn],
                details={
                    "unused": unused,
                    "days": days,
                    "password": c.password_json(),
                    "keys": [k.to_json() for k in c.active_keys],
                },
            )


@register(
    "access-key-not-rotated",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Access key not rotated",
    description="An active access key (of a user or the root user) created or last rotated more than "
    "rotation_days before the as-of time.",
    remediation="Rotate the key (create a second key, switch the workload, delete the old one), or replace "
    "long-term keys by a role.",
    reads="credential report and an as-of time",
)
def key_not_rotated(ctx: ReviewContext) -> Iterator[Finding]:
    as_of, days = ctx.as_of, ctx.config.rotation_days
    if as_of is None:
        ctx.skip(_NO_AS_OF)
        return
    rows = [*credentials(ctx, root=True, note_missing=False), *credentials(ctx, root=False)]
    for c in rows:
        for k in c.active_keys:
            if k.last_rotated is None or age_days(k.last_rotated, as_of) <= days:
                continue
            who = f"root user of {c.account}" if c.is_root else c.user
            yield ctx.finding(
                subject=c.arn,
                key=f"key{k.number}",
                title=f"{who}: {k.label} last rotated {k.last_rotated.date().isoformat()} "
                f"({int(age_days(k.last_rotated, as_of))} days)",
                account=c.account,
                file=ctx.file(c.account, CREDENTIALS),
                principals=[c.arn],
                details={**k.to_json(), "days": days},
            )


@register(
    "user-multiple-active-keys",
    family=FAMILY,
    severity=Severity.LOW,
    title="User with two active access keys",
    description="Both access keys of a user are active; outside a rotation, one is usually forgotten.",
    remediation="Keep one active key per user (two only during a rotation); delete the other.",
    reads="credential report",
)
def multiple_keys(ctx: ReviewContext) -> Iterator[Finding]:
    for c in credentials(ctx, root=False):
        if len(c.active_keys) > 1:
            never = [k.label for k in c.active_keys if k.last_used is None]
            yield ctx.finding(
                subject=c.arn,
                title=f"{c.user} has {len(c.active_keys)} active access keys"
                + (f" ({', '.join(never)} never used)" if never else ""),
                account=c.account,
                file=ctx.file(c.account, CREDENTIALS),
                principals=[c.arn],
                details={"keys": [k.to_json() for k in c.active_keys]},
            )


@register(
    "user-dual-credentials",
    family=FAMILY,
    severity=Severity.LOW,
    title="Console password and access keys, one of them unused",
    description="A user with both a console password and an active access key, where the password or a key "
    "was never used (or, with an as-of time, not used within unused_days).",
    remediation="Give a person either console access or keys, not both; remove the unused credential.",
    reads="credential report (an as-of time sharpens it)",
)
def dual_credentials(ctx: ReviewContext) -> Iterator[Finding]:
    as_of, days = ctx.as_of, ctx.config.unused_days
    for c in credentials(ctx, root=False):
        if not (c.password_enabled and c.active_keys):
            continue
        unused: dict[str, str] = {}
        candidates: list[tuple[str, Any, Any]] = [("password", c.password_last_used, c.password_set)]
        candidates += [(k.label, k.last_used, k.last_rotated) for k in c.active_keys]
        for name, last_used, created in candidates:
            if last_used is None:
                unused[name] = "never used"
            elif as_of is not None:
                why = unused_for(last_used, created, as_of, days)
                if why:
                    unused[name] = why
        if unused:
            yield ctx.finding(
                subject=c.arn,
                title=f"{c.user} has a console password and access keys; unused: {', '.join(unused)}",
                account=c.account,
                file=ctx.file(c.account, CREDENTIALS),
                principals=[c.arn],
                details={"unused": unused, "password": c.password_json(), "keys": [k.to_json() for k in c.active_keys]},
            )
