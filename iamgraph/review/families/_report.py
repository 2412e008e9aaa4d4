"""The credential report read for reviews: each row's password, MFA and access keys with their times."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iamgraph.model.snapshot import CredentialReportRow
from iamgraph.review.context import CREDENTIALS, ReviewContext
from iamgraph.review.dates import age_days, parse_report_time

__all__ = ["Credentials", "Key", "credentials", "unused_for"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    number: int
    active: bool
    last_rotated: datetime | None  # creation or last rotation
    last_used: datetime | None
    last_used_service: str | None
    last_used_region: str | None

    @property
    def label(self) -> str:
        return f"access key {self.number}"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.number,
            "active": self.active,
            "last_rotated": _iso(self.last_rotated),
            "last_used": _iso(self.last_used),
            "last_used_service": self.last_used_service,
            "last_used_region": self.last_used_region,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    account: str
    arn: str
    user: str
    is_root: bool
    password_enabled: bool
    password_last_used: datetime | None
    password_set: datetime | None  # last change, else the user's creation
    mfa: bool
    keys: tuple[Key, ...]

    @property
    def active_keys(self) -> tuple[Key, ...]:
        return tuple(k for k in self.keys if k.active)

    def password_json(self) -> dict[str, Any]:
        return {
            "enabled": self.password_enabled,
            "last_used": _iso(self.password_last_used),
            "last_changed": _iso(self.password_set),
            "mfa_active": self.mfa,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _column(row: CredentialReportRow, name: str) -> str | None:
    value = row.columns.get(name)
    return None if value in (None, "", "N/A", "no_information", "not_supported") else value


def _read(account: str, row: CredentialReportRow) -> Credentials:
    keys = tuple(
        Key(
            number=n,
            active=row.access_keys_active[n - 1],
            last_rotated=parse_report_time(_column(row, f"access_key_{n}_last_rotated")),
            last_used=parse_report_time(_column(row, f"access_key_{n}_last_used_date")),
            last_used_service=_column(row, f"access_key_{n}_last_used_service"),
            last_used_region=_column(row, f"access_key_{n}_last_used_region"),
        )
        for n in (1, 2)
    )
    changed = parse_report_time(_column(row, "password_last_changed"))
    return Credentials(
        account=account,
        arn=row.arn,
        user=row.user,
        is_root=row.is_root,
        password_enabled=bool(row.password_enabled),
        password_last_used=parse_report_time(_column(row, "password_last_used")),
        password_set=changed or parse_report_time(_column(row, "user_creation_time")),
        mfa=row.mfa_active,
        keys=keys,
    )


def credentials(ctx: ReviewContext, *, root: bool, note_missing: bool = True) -> Iterator[Credentials]:
    """Rows of every account's credential report (root rows or user rows); accounts without one are
    recorded as not assessed by the running check (unless the check has another source)."""
    for account in ctx.accounts():
        if account.credential_report is None:
            if note_missing:
                ctx.skip(f"no {CREDENTIALS} for this account", account=account.id)
            continue
        for row in account.credential_report:
            if row.is_root == root:
                yield _read(account.id, row)


def unused_for(last_used: datetime | None, created: datetime | None, as_of: datetime, days: int) -> str | None:
    """Why a credential counts as unused for more than ``days`` days at ``as_of``, or None."""
    if last_used is not None:
        age = age_days(last_used, as_of)
        return f"last used {int(age)} days before the as-of date" if age > days else None
    if created is not None and age_days(created, as_of) > days:
        return f"never used, created {int(age_days(created, as_of))} days before the as-of date"
    return None
