"""Suppressions: accepted findings, each with a reason and optionally an expiry date.

A suppression names a finding by its ``id``, or by ``check`` plus optional ``subject`` (a glob over the
subject, e.g. ``arn:aws:iam::*:role/vendor/*``) and ``account``. Every suppression must say why. Expired
suppressions no longer hide anything and are reported; so are suppressions that matched nothing, since
a stale exception list hides the next real finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from fnmatch import fnmatchcase
from typing import Any

from iamgraph.errors import InputError
from iamgraph.review.model import Finding

__all__ = ["Outcome", "Suppression", "apply_suppressions", "parse_suppressions"]

_KEYS = ("id", "check", "subject", "account", "reason", "expires")


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    index: int  # 0-based position in the file, for messages
    reason: str
    id: str | None = None
    check: str | None = None
    subject: str | None = None
    account: str | None = None
    expires: date | None = None

    def matches(self, finding: Finding) -> bool:
        if self.id is not None and finding.id != self.id:
            return False
        if self.check is not None and finding.check != self.check:
            return False
        if self.subject is not None and not fnmatchcase(finding.subject, self.subject):
            return False
        return self.account is None or finding.account == self.account

    def expired(self, reference: date | None) -> bool:
        return self.expires is not None and reference is not None and reference > self.expires

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "reason": self.reason}
        for key in ("id", "check", "subject", "account"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["expires"] = self.expires.isoformat() if self.expires else None
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    active: tuple[Finding, ...]
    suppressed: tuple[tuple[Finding, Suppression], ...]
    expired: tuple[tuple[Suppression, tuple[str, ...]], ...]  # with the finding ids it would have hidden
    unused: tuple[Suppression, ...]
    reference: date | None  # the date expiry was judged against
    reference_source: str | None


def parse_suppressions(doc: Any, *, where: str = "suppressions") -> tuple[Suppression, ...]:
    """``{"suppressions": [{...}, ...]}`` (TOML: ``[[suppressions]]`` tables); see docs/review.md."""
    if not isinstance(doc, Mapping) or set(doc) - {"suppressions"}:
        raise InputError('must hold one list, "suppressions"', where=where)
    items = doc.get("suppressions", [])
    if not isinstance(items, list):
        raise InputError("must be a list of tables", where=where, element="suppressions")
    return tuple(_one(item, i, where) for i, item in enumerate(items))


def _one(item: Any, index: int, where: str) -> Suppression:
    element = f"suppressions[{index}]"
    if not isinstance(item, Mapping):
        raise InputError("must be a table (object)", where=where, element=element)
    unknown = sorted(set(item) - set(_KEYS))
    if unknown:
        raise InputError("unknown key", where=where, element=f"{element}.{unknown[0]}")
    for key in ("id", "check", "subject", "account", "reason"):
        if key in item and (not isinstance(item[key], str) or not item[key].strip()):
            raise InputError("must be a non-empty string", where=where, element=f"{element}.{key}")
    if "reason" not in item:
        raise InputError("every suppression needs a reason", where=where, element=f"{element}.reason")
    if "id" not in item and "check" not in item:
        raise InputError('name the finding: "id", or "check" (with "subject"/"account")', where=where, element=element)
    check = item.get("check")
    if check is not None:
        _known_check(check, where, f"{element}.check")
    return Suppression(
        index=index,
        reason=item["reason"].strip(),
        id=item.get("id"),
        check=check,
        subject=item.get("subject"),
        account=item.get("account"),
        expires=_date(item.get("expires"), where, f"{element}.expires"),
    )


def _known_check(check_id: str, where: str, element: str) -> None:
    from iamgraph.review.registry import checks

    if check_id not in {c.id for c in checks()}:
        raise InputError(f'unknown check "{check_id}"', where=where, element=element)


def _date(value: Any, where: str, element: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f'"{value}" is not a date (YYYY-MM-DD)', where=where, element=element)


def apply_suppressions(
    findings: Iterable[Finding],
    suppressions: Iterable[Suppression],
    *,
    as_of: datetime | None,
    today: date | None,
) -> Outcome:
    """Split findings into active and suppressed. Expiry is judged against the review's as-of date when
    there is one, else against ``today`` (the caller's clock, named in the report)."""
    rules = tuple(suppressions)
    reference, source = (as_of.date(), "as-of") if as_of else (today, "today" if today else None)
    live = [s for s in rules if not s.expired(reference)]
    active: list[Finding] = []
    hidden: list[tuple[Finding, Suppression]] = []
    used: set[int] = set()
    stale: dict[int, list[str]] = {s.index: [] for s in rules if s.expired(reference)}
    for f in findings:
        rule = next((s for s in live if s.matches(f)), None)
        if rule is None:
            active.append(f)
        else:
            used.add(rule.index)
            hidden.append((f, rule))
        for s in rules:
            if s.index in stale and s.matches(f):
                stale[s.index].append(f.id)
    return Outcome(
        active=tuple(active),
        suppressed=tuple(hidden),
        expired=tuple((s, tuple(stale[s.index])) for s in rules if s.index in stale),
        unused=tuple(s for s in live if s.index not in used),
        reference=reference,
        reference_source=source,
    )
