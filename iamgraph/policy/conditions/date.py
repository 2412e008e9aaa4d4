"""Date operators: ISO 8601 forms or epoch seconds, compared as instants (date-only = 00:00 UTC, G8)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from iamgraph.policy.conditions.base import MatchFn, PolicyValue, any_match
from iamgraph.policy.conditions.numeric import parse_number
from iamgraph.policy.variables import Resolved, resolved_text

__all__ = ["comparison", "parse_instant"]


def parse_instant(text: str) -> Decimal | None:
    """Seconds since the epoch for an ISO 8601 date/time or an epoch number; None if neither."""
    text = text.strip()
    if not text:
        return None
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return parse_number(text)
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return Decimal(str(dt.timestamp()))


def comparison(op: Callable[[Decimal, Decimal], bool]) -> MatchFn:
    def one(value: str, policy: Resolved) -> bool | None:
        a, b = parse_instant(value), parse_instant(resolved_text(policy))
        if a is None or b is None:
            return None
        return op(a, b)

    def match(value: str, values: Sequence[PolicyValue]) -> bool | None:
        return any_match(value, values, one)

    return match
