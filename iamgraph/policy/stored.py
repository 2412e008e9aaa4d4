"""Lossless JSON of residual conditions: every field of an atom kept, so that a condition read back is equal
to the one written and a what-if evaluates it again (the display form, ``expr_to_json``, drops an operator's
base, qualifier and IfExists). The stores keep edges' conditions this way, the graph an admin's conditions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from iamgraph.model.policy import ConditionClause, Effect, PolicyKind, StatementRef
from iamgraph.policy.logic import And, Atom, Expr, Not, Or

__all__ = ["clause_from_json", "clause_to_json", "expr_from_json", "expr_to_store", "ref_from_json"]


def _canonical(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def ref_from_json(d: Mapping[str, Any]) -> StatementRef:
    return StatementRef(
        policy=d["policy"],
        layer=PolicyKind(d["layer"]),
        index=int(d["index"]),
        sid=d["sid"],
        effect=Effect(d["effect"]),
    )


def clause_to_json(c: ConditionClause) -> dict[str, Any]:
    return {
        "operator": c.operator,
        "base": c.base,
        "qualifier": c.qualifier,
        "if_exists": c.if_exists,
        "key": c.key,
        "values": list(c.values),
    }


def clause_from_json(d: Mapping[str, Any]) -> ConditionClause:
    return ConditionClause(
        operator=d["operator"],
        base=d["base"],
        qualifier=d["qualifier"],
        if_exists=bool(d["if_exists"]),
        key=d["key"],
        values=tuple(d["values"]),
    )


def expr_to_store(x: Expr) -> Any:
    """An expression as JSON, every field kept; ``expr_from_json`` gives back an equal expression."""
    if isinstance(x, bool):
        return x
    if isinstance(x, Atom):
        atom: dict[str, Any] = {"source": x.source.to_json(), "reason": x.reason, "undecidable": x.undecidable}
        atom["clause"] = clause_to_json(x.clause) if x.clause is not None else None
        return {"atom": atom}
    if isinstance(x, Not):
        return {"not": expr_to_store(x.item)}
    items = sorted((expr_to_store(i) for i in x.items), key=_canonical)
    return {"all": items} if isinstance(x, And) else {"any": items}


def expr_from_json(d: Any) -> Expr:
    if isinstance(d, bool):
        return d
    if "atom" in d:
        a = d["atom"]
        clause = clause_from_json(a["clause"]) if a.get("clause") is not None else None
        return Atom(source=ref_from_json(a["source"]), clause=clause, reason=a["reason"], undecidable=a["undecidable"])
    if "not" in d:
        return Not(expr_from_json(d["not"]))
    if "all" in d:
        return And(frozenset(expr_from_json(i) for i in d["all"]))
    return Or(frozenset(expr_from_json(i) for i in d["any"]))
