"""String operators: StringEquals, StringEqualsIgnoreCase, StringLike (and their negations)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from iamgraph.policy.conditions.base import PolicyValue, any_match
from iamgraph.policy.match import glob_regex
from iamgraph.policy.variables import Resolved, resolved_text

__all__ = ["equals", "equals_ignore_case", "like"]


def equals(value: str, values: Sequence[PolicyValue]) -> bool | None:
    return any_match(value, values, lambda v, p: v == resolved_text(p))


def equals_ignore_case(value: str, values: Sequence[PolicyValue]) -> bool | None:
    folded = value.casefold()
    return any_match(value, values, lambda _v, p: folded == resolved_text(p).casefold())


@lru_cache(maxsize=65536)
def _like(parts: Resolved, value: str) -> bool:
    return glob_regex(parts).fullmatch(value) is not None


def like(value: str, values: Sequence[PolicyValue]) -> bool | None:
    return any_match(value, values, lambda v, p: _like(p, v))
