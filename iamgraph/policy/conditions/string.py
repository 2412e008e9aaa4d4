"""String operators: StringEquals, StringEqualsIgnoreCase, StringLike (and their negations)."""

from __future__ import annotations

from collections.abc import Sequence

from iamgraph.policy.conditions.base import PolicyValue, any_match
from iamgraph.policy.match import glob_regex
from iamgraph.policy.memo import memo
from iamgraph.policy.variables import Resolved, resolved_text

__all__ = ["equals", "equals_ignore_case", "like"]


def equals(value: str, values: Sequence[PolicyValue]) -> bool | None:
    return any_match(value, values, lambda v, p: v == resolved_text(p))


def _fold(text: str) -> str:
    """Simple case folding (G8): one character to one character, so "ß" never equals "ss"."""
    return text.lower() if text.isascii() else "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def equals_ignore_case(value: str, values: Sequence[PolicyValue]) -> bool | None:
    folded = _fold(value)
    return any_match(value, values, lambda _v, p: folded == _fold(resolved_text(p)))


@memo(maxsize=65536)
def _like(parts: Resolved, value: str) -> bool:
    return glob_regex(parts).fullmatch(value) is not None


def like(value: str, values: Sequence[PolicyValue]) -> bool | None:
    return any_match(value, values, lambda v, p: _like(p, v))
