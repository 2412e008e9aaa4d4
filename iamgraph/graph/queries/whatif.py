"""Context what-if for queries: resolve residual conditions with given keys, decide what stays open.

``--context aws:MultiFactorAuthPresent=true`` gives keys a value; ``--assume-unknown`` says what to do
with conditions that still depend on unknown keys: ``keep`` (default: conditional), ``allow`` (treat
them as satisfied) or ``deny`` (drop the edge).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from iamgraph.errors import InputError
from iamgraph.evaluation.context import Context
from iamgraph.policy.conditions import evaluate_clause
from iamgraph.policy.logic import Atom, Expr, substitute

__all__ = ["AssumeUnknown", "WhatIf", "parse_context_pairs"]


class AssumeUnknown(StrEnum):
    KEEP = "keep"
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class WhatIf:
    values: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    assume: AssumeUnknown = AssumeUnknown.KEEP
    # resolved conditions by the identity of the expression (edges share them); the value keeps the
    # expression alive so that its id is not reused
    _memo: dict[int, tuple[Expr, Expr]] = field(default_factory=dict, compare=False, hash=False, repr=False)
    _context: Context | None = field(default=None, init=False, compare=False, hash=False, repr=False)
    _none: bool = field(default=True, init=False, compare=False, hash=False, repr=False)  # changes nothing

    def __post_init__(self) -> None:
        if self.values:  # the context the values give, built once
            object.__setattr__(self, "_context", Context.build(dict(self.values), unknown="*"))
        object.__setattr__(self, "_none", not self.values and self.assume is AssumeUnknown.KEEP)

    def resolve(self, conditions: Expr) -> Expr:
        """The edge's conditions under this what-if: True, False or what stays open."""
        if self._none or isinstance(conditions, bool):
            return conditions
        hit = self._memo.get(id(conditions))
        if hit is not None:
            return hit[1]
        resolved: Expr = conditions
        ctx = self._context
        if ctx is not None:
            resolved = substitute(conditions, lambda a: self._atom(a, ctx))
        if not isinstance(resolved, bool) and self.assume is not AssumeUnknown.KEEP:
            resolved = self.assume is AssumeUnknown.ALLOW
        self._memo[id(conditions)] = (conditions, resolved)
        return resolved

    @staticmethod
    def _atom(atom: Atom, ctx: Context) -> Expr:
        if atom.clause is None or atom.undecidable:
            return atom
        r = evaluate_clause(atom.clause, ctx.lookup, variables=True, source=atom.source)
        return atom if isinstance(r, Atom) else r

    @property
    def active(self) -> bool:
        return not self._none


def parse_context_pairs(pairs: list[str] | None) -> dict[str, str | tuple[str, ...]]:
    """``key=value`` (``key=a,b`` for a multivalued key written ``key=[a,b]``)."""
    out: dict[str, str | tuple[str, ...]] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f'"{pair}" is not key=value', element="--context")
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            out[key.strip()] = tuple(v.strip() for v in value[1:-1].split(",") if v.strip())
        else:
            out[key.strip()] = value
    return out
