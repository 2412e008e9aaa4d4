"""Residual conditions (their JSON, docs/cli.md) as one line of plain text: ``key Operator value``, and/or/not.

Shared by the terminal's trees and the UI's lists; plain text, never markup: each caller escapes it.

A Deny with a negated operator leaves a double negative behind (``not aws:SourceIp NotIpAddress [...]``).
For a single-valued key, without ForAnyValue/ForAllValues, it reads as the positive operator: absent key
gives false both ways (a negated operator is true on an absent key, with or without IfExists), present key
gives the operator's own answer. Only the text says so: the JSON keeps the conditions as they are.
"""

from __future__ import annotations

import json
from typing import Any

from iamgraph.catalog.global_keys import lookup_global_key, lookup_provider_key

__all__ = ["condition_text", "conditions_text"]


def _values(values: Any) -> str:
    if isinstance(values, list):
        return str(values[0]) if len(values) == 1 else "[" + ", ".join(str(v) for v in values) + "]"
    return str(values)


def condition_text(expr: Any) -> str:
    """One residual condition expression (docs/cli.md) as text: ``key Operator value``, and/or/not."""
    if not isinstance(expr, dict):
        return json.dumps(expr, ensure_ascii=False)
    if "all" in expr and isinstance(expr["all"], list):
        return " and ".join(_grouped(e) for e in expr["all"])
    if "any" in expr and isinstance(expr["any"], list):
        return " or ".join(_grouped(e) for e in expr["any"])
    if "not" in expr:
        positive = _positive(expr["not"])
        return positive if positive is not None else f"not {_grouped(expr['not'])}"
    cond = expr.get("condition")
    if isinstance(cond, dict):
        return f"{cond.get('key', '?')} {cond.get('operator', '?')} {_values(cond.get('values', []))}"
    if expr.get("reason"):
        return str(expr["reason"])
    return json.dumps(expr, ensure_ascii=False, sort_keys=True)


_POSITIVE = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _positive(negated: Any) -> str | None:
    """``not <key> Not<Op>[IfExists] <values>`` as ``<key> <Op> <values>`` where that is the same (see the
    module's text); None where it is not (set operators, multivalued or unknown keys, other operators)."""
    cond = negated.get("condition") if isinstance(negated, dict) else None
    if not isinstance(cond, dict):  # and/or/not below the not: left as they are
        return None
    key, operator = cond.get("key"), cond.get("operator")
    if not isinstance(key, str) or not isinstance(operator, str):
        return None
    positive = _POSITIVE.get(operator.removesuffix("IfExists"))
    known = lookup_global_key(key) or lookup_provider_key(key)
    if positive is None or known is None or known.multivalued:
        return None
    return f"{key} {positive} {_values(cond.get('values', []))}"


def _grouped(expr: Any) -> str:
    text = condition_text(expr)
    return f"({text})" if isinstance(expr, dict) and ("all" in expr or "any" in expr) else text


def conditions_text(conditions: list[Any]) -> str:
    """A hop's ``conditions`` list (empty: holds unconditionally) as one line."""
    return " and ".join(_grouped(c) for c in conditions)
