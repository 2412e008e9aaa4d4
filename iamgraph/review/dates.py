"""Times of the credential report and the review's "as of" time.

The credential report writes ISO 8601 times (``2026-10-02T21:17:00+00:00``) or a marker (``N/A``,
``no_information``, ``not_supported``) where there is no time. Ages are counted up to the review's as-of
time: the one given (``--as-of``, the config file, the API parameter), else the newest time a credential
report of the snapshot was generated (account.json ``credential_report_generated``); the wall clock is
never read here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from iamgraph.errors import InputError
from iamgraph.model.snapshot import Account

__all__ = ["age_days", "parse_as_of", "parse_report_time", "report_generated_as_of", "utc_text"]


def parse_report_time(value: str | None) -> datetime | None:
    """A credential-report time, or None for the markers that mean "no time"."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_as_of(value: object, *, element: str, where: str = "") -> datetime:
    """``2026-11-15`` (midnight UTC) or a full ISO 8601 time; a TOML date or datetime is accepted as is."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=UTC)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise InputError(
        f'"{value}" is not a date (YYYY-MM-DD) or an ISO 8601 time', where=where, element=element
    ) from None


def age_days(then: datetime, as_of: datetime) -> float:
    """Days from ``then`` to ``as_of`` (negative when ``then`` is after the as-of time)."""
    return (as_of - then).total_seconds() / 86400.0


def report_generated_as_of(accounts: Iterable[Account]) -> tuple[datetime, str] | None:
    """The newest credential-report generation time of ``accounts`` and the source the report names for it
    (on a tie, the first account in snapshot order); None when no account records one."""
    times = [(a.credential_report_generated, a.id) for a in accounts if a.credential_report_generated is not None]
    if not times:
        return None
    moment, account = max(times, key=lambda t: t[0])  # max keeps the first of equals
    return moment, f"credential report generated {utc_text(moment)} (account {account})"


def utc_text(moment: datetime) -> str:
    """``2026-11-15T08:30:00Z``: an aware time in UTC, as account.json writes it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
