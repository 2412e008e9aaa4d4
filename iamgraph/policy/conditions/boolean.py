"""Bool: "true"/"false" compared without case (G: case unspecified); other text is undecidable."""

from __future__ import annotations

from collections.abc import Sequence

from iamgraph.policy.conditions.base import PolicyValue, any_match
from iamgraph.policy.variables import Resolved, resolved_text

__all__ = ["equals"]

_BOOLS = {"true", "false"}


def _one(value: str, policy: Resolved) -> bool | None:
    a, b = value.strip().lower(), resolved_text(policy).strip().lower()
    if a not in _BOOLS or b not in _BOOLS:
        return None
    return a == b


def equals(value: str, values: Sequence[PolicyValue]) -> bool | None:
    return any_match(value, values, _one)
