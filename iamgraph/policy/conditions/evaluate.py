"""Evaluate one condition clause against a context lookup, three-valued.

Rules (spec §3): absent key -> positive operators false, negated true; ``IfExists`` makes an absent key
true; ``Null`` tests presence; ``ForAllValues`` is true on an empty set, ``ForAnyValue`` false; negated
operators are NOR over the policy values. Keys declared unknown give an :class:`Atom`; gaps of the AWS
documentation give an undecidable Atom (reported as ``Unknown``), never a guess.
"""

from __future__ import annotations

from iamgraph.model.policy import ConditionClause, StatementRef
from iamgraph.policy.conditions.base import OperatorSpec, PolicyValue
from iamgraph.policy.conditions.registry import NULL, lookup_operator
from iamgraph.policy.logic import Atom, Expr, conj
from iamgraph.policy.variables import NO_VALUE, UNKNOWN, Lookup, Unresolved, parse_template, resolve

__all__ = ["evaluate_block", "evaluate_clause"]

FOR_ALL, FOR_ANY = "ForAllValues", "ForAnyValue"


def _unknown(clause: ConditionClause, source: StatementRef, key: str) -> Atom:
    return Atom(source=source, clause=clause, reason=f"value of {key} is not known")


def _gap(clause: ConditionClause, source: StatementRef, why: str) -> Atom:
    return Atom(source=source, clause=clause, reason=why, undecidable=True)


def _is_null(value: str | tuple[str, ...] | None) -> bool:
    return value is None or value == "" or value == ()


def _null(clause: ConditionClause, value: str | tuple[str, ...] | None) -> bool:
    null = _is_null(value)
    return any((v.strip().lower() == "true") == null for v in clause.values)


def _policy_values(
    clause: ConditionClause, spec: OperatorSpec, lookup: Lookup, variables: bool
) -> list[PolicyValue] | str:
    """Resolve variables; a str result names an unknown key that a variable depends on."""
    out: list[PolicyValue] = []
    for raw in clause.values:
        if variables and spec.variables and "${" in raw:
            r = resolve(parse_template(raw), lookup)
            if isinstance(r, Unresolved):
                return r.key
            out.append(None if r is NO_VALUE else r)  # type: ignore[arg-type,unused-ignore]
        else:
            out.append((raw,))
    return out


def evaluate_clause(clause: ConditionClause, lookup: Lookup, *, variables: bool, source: StatementRef) -> Expr:
    """Truth of one operator/key pair."""
    value = lookup(clause.key_lc)
    if value is UNKNOWN:
        return _unknown(clause, source, clause.key)
    if clause.base == NULL:
        return _null(clause, value)  # type: ignore[arg-type]
    spec = lookup_operator(clause.base)
    if spec is None:  # parse rejects unknown operators; keep the engine total anyway
        return _gap(clause, source, f"unknown operator {clause.operator}")
    if value is None:
        if clause.if_exists:
            if clause.qualifier:
                return _gap(clause, source, "IfExists with a set operator on an absent key is undocumented")
            return True
        if clause.qualifier == FOR_ALL:
            return True
        if clause.qualifier == FOR_ANY:
            return False
        return spec.negated
    values = _policy_values(clause, spec, lookup, variables)
    if isinstance(values, str):
        return _unknown(clause, source, values)
    assert isinstance(value, str | tuple)
    if clause.qualifier is None:
        if isinstance(value, tuple):
            return _gap(clause, source, f"multivalued key {clause.key} used without ForAllValues/ForAnyValue")
        m = spec.match(value, values)
        if m is None:
            return _gap(clause, source, f"{clause.operator} cannot interpret the values of {clause.key}")
        return m != spec.negated
    items = (value,) if isinstance(value, str) else value
    results: list[bool] = []
    for item in items:
        m = spec.match(item, values)
        if m is None:
            return _gap(clause, source, f"{clause.operator} cannot interpret the values of {clause.key}")
        results.append(m != spec.negated)
    return all(results) if clause.qualifier == FOR_ALL else any(results)


def evaluate_block(
    conditions: tuple[ConditionClause, ...], lookup: Lookup, *, variables: bool, source: StatementRef
) -> Expr:
    """AND of every clause; an empty block is true. Stops at the first false clause."""
    if not conditions:
        return True
    parts: list[Expr] = []
    for clause in conditions:
        r = evaluate_clause(clause, lookup, variables=variables, source=source)
        if r is False:
            return False
        parts.append(r)
    return conj(parts)
