"""Three-valued results: ``True``, ``False`` or a residual boolean expression over atoms.

An :class:`Atom` is a condition (or another undecidable element) whose truth the engine could not
establish: either its context key is declared unknown (partial evaluation) or AWS documentation leaves
the outcome open (``undecidable``). Constants fold away, so fully known inputs always give a bool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

from iamgraph.model._fast import fast_pickle
from iamgraph.model.policy import ConditionClause, StatementRef
from iamgraph.policy.memo import memo

__all__ = ["And", "Atom", "Expr", "Not", "Or", "atoms", "conj", "disj", "expr_to_json", "neg", "substitute"]


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Atom:
    """A condition that stayed open; ``source`` is the statement it belongs to."""

    source: StatementRef
    clause: ConditionClause | None
    reason: str
    undecidable: bool = False

    def __hash__(self) -> int:
        """Of some of the fields (equal atoms have them equal): the generated hash of every field called the
        generated hashes of the statement reference and the clause as well, three Python calls per atom
        each time an expression went into a set."""
        source = self.source
        return hash((self.reason, source.policy, source.index))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source.to_json(), "reason": self.reason}
        if self.clause is not None:
            out["condition"] = self.clause.to_json()
        if self.undecidable:
            out["undecidable"] = True
        return out


@fast_pickle
@dataclass(frozen=True, slots=True)
class Not:
    item: Expr


@fast_pickle
@dataclass(frozen=True, slots=True)
class And:
    items: frozenset[Expr]


@fast_pickle
@dataclass(frozen=True, slots=True)
class Or:
    items: frozenset[Expr]


Expr: TypeAlias = "bool | Atom | Not | And | Or"


def neg(x: Expr) -> Expr:
    if x is True:
        return False
    if x is False:
        return True
    if isinstance(x, Not):
        return x.item
    return Not(x)


def conj(items: Iterable[Expr]) -> Expr:
    """Logical AND with constant folding and flattening."""
    acc: set[Expr] | None = None  # built only once a non-constant shows up (rare in exact evaluation)
    for x in items:
        if x is False:
            return False
        if x is True:
            continue
        if acc is None:
            acc = set()
        if isinstance(x, And):
            acc.update(x.items)
        else:
            acc.add(x)
    if not acc:
        return True
    if len(acc) == 1:
        return next(iter(acc))
    return And(frozenset(acc))


def disj(items: Iterable[Expr]) -> Expr:
    """Logical OR with constant folding and flattening."""
    acc: set[Expr] | None = None
    for x in items:
        if x is True:
            return True
        if x is False:
            continue
        if acc is None:
            acc = set()
        if isinstance(x, Or):
            acc.update(x.items)
        else:
            acc.add(x)
    if not acc:
        return False
    if len(acc) == 1:
        return next(iter(acc))
    return Or(frozenset(acc))


def atoms(x: Expr) -> Iterator[Atom]:
    """Every atom of an expression (depth first)."""
    if isinstance(x, Atom):
        yield x
    elif isinstance(x, Not):
        yield from atoms(x.item)
    elif isinstance(x, And | Or):
        for item in x.items:
            yield from atoms(item)


def substitute(x: Expr, value_of: Callable[[Atom], Expr]) -> Expr:
    """Replace every atom by ``value_of(atom)`` and fold constants (used for what-if contexts)."""
    if isinstance(x, bool):
        return x
    if isinstance(x, Atom):
        return value_of(x)
    if isinstance(x, Not):
        return neg(substitute(x.item, value_of))
    if isinstance(x, And):
        return conj(substitute(i, value_of) for i in x.items)
    return disj(substitute(i, value_of) for i in x.items)


@functools.lru_cache(maxsize=1 << 16)
def _sort_key(x: Expr) -> str:
    """The order of an And's or Or's parts in JSON: their text, with the parts of a nested And or Or in
    this same order (the text of a frozenset lists its items in the order of their hashes, which differ
    from one process to the next: the same edge's conditions came out in another order in another run)."""
    return _compound_key(x) if isinstance(x, Not | And | Or) else repr(x)


@memo(maxsize=1 << 16)
def _compound_key(x: Not | And | Or) -> str:
    """:func:`_sort_key` of a Not, And or Or, kept by value (its parts' texts are rebuilt field by field;
    equal conditions recur on thousands of edges)."""
    if isinstance(x, Not):
        return f"Not(item={_sort_key(x.item)})"
    return f"{type(x).__name__}(items=[{', '.join(sorted(map(_sort_key, x.items)))}])"


def expr_to_json(x: Expr) -> Any:
    """A stable JSON form: atoms as objects, ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": ...}``."""
    if isinstance(x, bool):
        return x
    if isinstance(x, Atom):
        return x.to_json()
    if isinstance(x, Not):
        return {"not": expr_to_json(x.item)}
    key = "all" if isinstance(x, And) else "any"
    return {key: [expr_to_json(i) for i in sorted(x.items, key=_sort_key)]}
