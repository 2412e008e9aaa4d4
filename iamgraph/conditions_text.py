"""Residual conditions (their JSON, docs/cli.md) as one line of plain text: ``key Operator value``, and/or/not.

Shared by the terminal's trees and the UI's lists; plain text, never markup: each caller escapes it.
"""

from __future__ import annotations

import json
from typing import Any

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
        return f"not {_grouped(expr['not'])}"
    cond = expr.get("condition")
    if isinstance(cond, dict):
        return f"{cond.get('key', '?')} {cond.get('operator', '?')} {_values(cond.get('values', []))}"
    if expr.get("reason"):
        return str(expr["reason"])
    return json.dumps(expr, ensure_ascii=False, sort_keys=True)


def _grouped(expr: Any) -> str:
    text = condition_text(expr)
    return f"({text})" if isinstance(expr, dict) and ("all" in expr or "any" in expr) else text


def conditions_text(conditions: list[Any]) -> str:
    """A hop's ``conditions`` list (empty: holds unconditionally) as one line."""
    return " and ".join(_grouped(c) for c in conditions)
