"""Lossless JSON for what a store keeps of an edge: residual conditions, proof, trust clauses.

The display forms (``DerivedEdge.to_json``, ``expr_to_json``) drop what a what-if needs to evaluate a
condition again (an operator's base, qualifier and IfExists); a store keeps this form beside them, so
that an edge read back is equal to the edge that was written and queries over it answer the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.evaluation.decision import MatchedStatement
from iamgraph.model.policy import ConditionClause, Effect, PolicyKind, StatementRef
from iamgraph.policy.logic import And, Atom, Expr, Not, Or

__all__ = [
    "clause_from_json",
    "clause_to_json",
    "decode_edge",
    "dumps",
    "edge_id",
    "expr_from_json",
    "expr_to_store",
    "proof_from_json",
]


def dumps(value: Any) -> str:
    """Compact JSON that keeps key order (proof and access read back in the order they were written)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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


def proof_from_json(items: list[dict[str, Any]]) -> tuple[MatchedStatement, ...]:
    return tuple(
        MatchedStatement(
            ref=ref_from_json(m),
            conditional=bool(m["conditional"]),
            forms=tuple(m.get("principal_forms", ())),
            level=m.get("level"),
        )
        for m in items
    )


def edge_id(edge: DerivedEdge, conditions: str) -> str:
    """A stable identity of an edge (``conditions``: its ``expr_to_store`` JSON), the same in every process."""
    text = "\x1f".join((edge.source, edge.target, edge.kind.value, edge.technique, conditions))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def decode_edge(props: Mapping[str, Any], source: str, target: str) -> DerivedEdge:
    """The DerivedEdge a store wrote, from its relationship properties."""
    access = json.loads(props["access"]) if props.get("access") else {}
    return DerivedEdge(
        source=source,
        target=target,
        kind=EdgeKind(props["kind"]),
        technique=props["technique"],
        actions=tuple(props.get("actions") or ()),
        proof=proof_from_json(json.loads(props["proof"])),
        conditions=expr_from_json(json.loads(props["expr"])),
        access={k: tuple(v) for k, v in access.items()},
        via=tuple(props.get("via") or ()),
        note=props.get("note") or "",
    )
