"""What every operator family provides: a positive match of one request value against policy values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from iamgraph.policy.variables import Resolved

__all__ = ["MatchFn", "OperatorSpec", "PolicyValue", "any_match"]

# A policy value after variable substitution; None = a variable without value (never matches).
PolicyValue: TypeAlias = Resolved | None
# Positive match: True, False, or None when the values cannot be interpreted (undecidable).
MatchFn: TypeAlias = Callable[[str, Sequence[PolicyValue]], "bool | None"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorSpec:
    """A base condition operator: its family, whether it is negated, whether variables apply."""

    name: str
    family: str
    negated: bool
    variables: bool
    match: MatchFn


def any_match(
    request_value: str, values: Sequence[PolicyValue], one: Callable[[str, Resolved], bool | None]
) -> bool | None:
    """True if any policy value matches; None if none matches and one was undecidable."""
    undecided = False
    for v in values:
        if v is None:
            continue
        r = one(request_value, v)
        if r is True:
            return True
        if r is None:
            undecided = True
    return None if undecided else False
