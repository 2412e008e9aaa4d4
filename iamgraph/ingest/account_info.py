"""account.json: the account alias, password policy and account summary (all optional)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iamgraph.ingest.reader import Loc, check_keys, opt_string

__all__ = ["AccountInfo", "read_account_info"]

_KEYS = ("alias", "password_policy", "summary")


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountInfo:
    alias: str | None = None
    password_policy: Mapping[str, Any] | None = None
    summary: Mapping[str, Any] | None = None


def read_account_info(doc: Any, *, where: str) -> AccountInfo:
    """``password_policy`` is the PasswordPolicy object of ``aws iam get-account-password-policy`` and
    ``summary`` the SummaryMap of ``aws iam get-account-summary``, both kept as AWS wrote them."""
    loc = Loc(where)
    top = loc.obj(doc)
    check_keys(top, loc, _KEYS)
    return AccountInfo(
        alias=opt_string(top, "alias", loc),
        password_policy=_opt_object(top, "password_policy", loc),
        summary=_summary(top, loc),
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
