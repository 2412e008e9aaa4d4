"""BinaryEquals: policy values are base64; compared byte for byte with the (base64) request value."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from iamgraph.policy.conditions.base import PolicyValue, any_match
from iamgraph.policy.variables import Resolved, resolved_text

__all__ = ["equals"]


def _decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _one(value: str, policy: Resolved) -> bool | None:
    want = _decode(resolved_text(policy))
    if want is None:
        return None
    got = _decode(value)
    return (got if got is not None else value.encode()) == want


def equals(value: str, values: Sequence[PolicyValue]) -> bool | None:
    return any_match(value, values, _one)
