"""Numeric operators; a value that is not a decimal number makes the comparison undecidable (G2)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

from iamgraph.policy.conditions.base import MatchFn, PolicyValue, any_match
from iamgraph.policy.variables import Resolved, resolved_text

__all__ = ["comparison", "parse_number"]


def parse_number(text: str) -> Decimal | None:
    try:
        n = Decimal(text.strip())
    except InvalidOperation:
        return None
    return n if n.is_finite() else None


def comparison(op: Callable[[Decimal, Decimal], bool]) -> MatchFn:
    def one(value: str, policy: Resolved) -> bool | None:
        a, b = parse_number(value), parse_number(resolved_text(policy))
        if a is None or b is None:
            return None
        return op(a, b)

    def match(value: str, values: Sequence[PolicyValue]) -> bool | None:
        return any_match(value, values, one)

    return match


EQ, LT, LE, GT, GE = operator.eq, operator.lt, operator.le, operator.gt, operator.ge
