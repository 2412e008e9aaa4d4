"""account.json: the account alias, password policy, account summary and when the credential report was
generated (all optional)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iamgraph.ingest.reader import Loc, check_keys, opt_string

__all__ = ["AccountInfo", "read_account_info"]

_KEYS = ("alias", "credential_report_generated", "password_policy", "summary")
# ISO 8601 date-time in UTC, as docs/schemas/account.schema.json says: seconds required, "Z" or "+00:00".
_UTC_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|\+00:00)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountInfo:
    alias: str | None = None
    password_policy: Mapping[str, Any] | None = None
    summary: Mapping[str, Any] | None = None
    credential_report_generated: datetime | None = None


def read_account_info(doc: Any, *, where: str) -> AccountInfo:
    """``password_policy`` is the PasswordPolicy object of ``aws iam get-account-password-policy`` and
    ``summary`` the SummaryMap of ``aws iam get-account-summary``, both kept as AWS wrote them;
    ``credential_report_generated`` the ``GeneratedTime`` of ``aws iam get-credential-report``."""
    loc = Loc(where)
    top = loc.obj(doc)
    check_keys(top, loc, _KEYS)
    return AccountInfo(
        alias=opt_string(top, "alias", loc),
        password_policy=_opt_object(top, "password_policy", loc),
        summary=_summary(top, loc),
        credential_report_generated=_utc_time(top, "credential_report_generated", loc),
    )


def _opt_object(top: Mapping[str, Any], key: str, loc: Loc) -> Mapping[str, Any] | None:
    value = top.get(key)
    return None if value is None else dict(loc.at(key).obj(value))


def _summary(top: Mapping[str, Any], loc: Loc) -> Mapping[str, Any] | None:
    summary = _opt_object(top, "summary", loc)
    for key, value in (summary or {}).items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise loc.at("summary").at(key).error("a SummaryMap value must be an integer")
    return summary


def _utc_time(top: Mapping[str, Any], key: str, loc: Loc) -> datetime | None:
    """An ISO 8601 UTC date-time (``2026-11-15T08:30:00Z``) as an aware datetime; null or absent: None."""
    text = opt_string(top, key, loc)
    if text is None:
        return None
    if _UTC_TIME.match(text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass  # the right shape but no such date or time, e.g. month 13
    shown = json.dumps(text[:40] + ("…" if len(text) > 40 else ""), ensure_ascii=False)
    raise loc.at(key).error(f"{shown} is not an ISO 8601 UTC date-time such as 2026-11-15T08:30:00Z")
