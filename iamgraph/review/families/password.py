"""The account password policy (account.json): missing, or weaker than the configured baseline."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from iamgraph.model.snapshot import Account
from iamgraph.review.config import PasswordBaseline
from iamgraph.review.context import INFO, ReviewContext
from iamgraph.review.model import Finding, Severity
from iamgraph.review.registry import register

FAMILY = "password-policy"


def _console_users(account: Account) -> int | None:
    """Users with a console password (credential report), or None when the report is missing."""
    if account.credential_report is None:
        return None
    return sum(1 for r in account.credential_report if not r.is_root and r.password_enabled)


def _severity(account: Account) -> Severity | None:
    """Low when the account provably has no console user (the policy then protects nobody yet)."""
    users = _console_users(account)
    return Severity.LOW if users == 0 or (users is None and not account.users) else None


def _known(account: Account) -> bool:
    """Did the snapshot carry account.json for this account? (its alias or summary says so)"""
    return account.password_policy is not None or account.alias is not None or account.summary is not None


@register(
    "password-policy-missing",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="No account password policy",
    description="The account has no password policy (account.json password_policy null): AWS's default "
    "applies. Low when the account has no console user.",
    remediation="Set a password policy (aws iam update-account-password-policy) at least as strong as the baseline.",
    reads="account.json",
)
def password_policy_missing(ctx: ReviewContext) -> Iterator[Finding]:
    for account in ctx.accounts():
        if not _known(account):
            ctx.skip(f"no {INFO} (password policy unknown)", account=account.id)
            continue
        if account.password_policy is None:
            users = _console_users(account)
            yield ctx.finding(
                subject=f"arn:aws:iam::{account.id}:root",
                title=f"Account {account.alias or account.id} has no password policy",
                severity=_severity(account),
                account=account.id,
                file=ctx.file(account.id, INFO),
                principals=[f"arn:aws:iam::{account.id}:root"],
                details={"console_users": users},
            )


def shortfalls(policy: Mapping[str, Any], baseline: PasswordBaseline) -> list[dict[str, Any]]:
    """Each setting of ``policy`` below ``baseline``: ``{"setting", "actual", "required"}``."""
    out: list[dict[str, Any]] = []

    def short(setting: str, actual: Any, required: Any) -> None:
        out.append({"setting": setting, "actual": actual, "required": required})

    length = policy.get("MinimumPasswordLength")
    if not isinstance(length, int) or length < baseline.minimum_length:
        short("MinimumPasswordLength", length, baseline.minimum_length)
    for setting, wanted in (
        ("RequireSymbols", baseline.require_symbols),
        ("RequireNumbers", baseline.require_numbers),
        ("RequireUppercaseCharacters", baseline.require_uppercase),
        ("RequireLowercaseCharacters", baseline.require_lowercase),
    ):
        if wanted and policy.get(setting) is not True:
            short(setting, policy.get(setting, False), True)
    if baseline.max_age_days is not None:
        age = policy.get("MaxPasswordAge")
        if policy.get("ExpirePasswords") is not True or not isinstance(age, int) or age > baseline.max_age_days:
            short("MaxPasswordAge", age if policy.get("ExpirePasswords") else None, baseline.max_age_days)
    reuse = policy.get("PasswordReusePrevention")
    if baseline.reuse_prevention and (not isinstance(reuse, int) or reuse < baseline.reuse_prevention):
        short("PasswordReusePrevention", reuse, baseline.reuse_prevention)
    return out


@register(
    "password-policy-weak",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="Password policy weaker than the baseline",
    description="A setting of the account password policy below the configured baseline (length, character "
    "classes, expiry when required, reuse prevention). Low when the account has no console user.",
    remediation="Raise the listed settings to the baseline (aws iam update-account-password-policy).",
    reads="account.json",
)
def password_policy_weak(ctx: ReviewContext) -> Iterator[Finding]:
    for account in ctx.accounts():
        if account.password_policy is None:
            continue  # missing (or unknown): the other check says so
        gaps = shortfalls(account.password_policy, ctx.config.password)
        if gaps:
            yield ctx.finding(
                subject=f"arn:aws:iam::{account.id}:root",
                title=f"Password policy of {account.alias or account.id} is weaker than the baseline: "
                + ", ".join(g["setting"] for g in gaps),
                severity=_severity(account),
                account=account.id,
                file=ctx.file(account.id, INFO),
                principals=[f"arn:aws:iam::{account.id}:root"],
                details={
                    "shortfalls": gaps,
                    "policy": dict(account.password_policy),
                    "baseline": ctx.config.password.to_json(),
                },
            )
