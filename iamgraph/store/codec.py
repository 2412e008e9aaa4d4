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
from iamgraph.policy.stored import clause_from_json, clause_to_json, expr_from_json, expr_to_store, ref_from_json

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
