"""A built graph as rows for Neo4j: node and relationship properties, owners, adjacency ranks.

Every value becomes a property or a JSON string property; nothing here is ever spliced into Cypher.
Each node and relationship is owned by one account of the snapshot (``""``: outside nodes shared by
all), so that reloading an account replaces exactly what it owns.

``out_rank`` / ``in_rank`` record an edge's position among its source's out-edges and its target's
in-edges in the built graph: the store rebuilds fetched subgraphs in that order, so that the query
code breaks ties between equally short paths exactly as the memory store does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.graph.queries.base import QueryView
from iamgraph.graph.queries.exposure import OUTSIDE_KINDS
from iamgraph.policy.logic import Expr
from iamgraph.store.codec import clause_to_json, dumps, edge_id, expr_to_store

__all__ = ["NODE_PROPS", "REL_PROPS", "Rows", "build_rows", "label_of", "rel_type"]

# the properties a load writes (fixed names: the write statements list them, never take them from data)
NODE_PROPS = ("id", "account", "kind", "name", "admin", "attrs", "seq")
REL_PROPS = (
    "rid",
    "account",
    "kind",
    "technique",
    "actions",
    "conditional",
    "expr",
    "proof",
    "out_rank",
    "in_rank",
    "access",
    "via",
    "note",
    "trust",
)


def label_of(kind: NodeKind | str) -> str:
    """The node label of a kind (from the fixed NodeKind enum): ``external_account`` -> ``ExternalAccount``."""
    return "".join(p.capitalize() for p in NodeKind(kind).value.split("_"))


def rel_type(kind: EdgeKind) -> str:
    """The relationship type of an edge kind (from the fixed EdgeKind enum): ``assume`` -> ``ASSUME``."""
    return EdgeKind(kind).value.upper()


@dataclass(slots=True)
class Rows:
    """Node rows by kind and relationship rows by edge kind, with the accounts of the snapshot."""

    accounts: tuple[str, ...]
    nodes: dict[NodeKind, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    edges: dict[EdgeKind, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    stubs: dict[NodeKind, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    @property
    def node_count(self) -> int:
        return sum(len(v) for v in self.nodes.values())

    @property
    def edge_count(self) -> int:
        return sum(len(v) for v in self.edges.values())


class _Encoder:
    """Caches the JSON of proofs and conditions by object: edges of one technique share them.

    Keyed by ``id``: the objects live in the graph for the whole load, so an id is never reused.
    """

    def __init__(self) -> None:
        self.proofs: dict[int, str] = {}
        self.exprs: dict[int, str] = {}

    def proof(self, edge: DerivedEdge) -> str:
        s = self.proofs.get(id(edge.proof))
        if s is None:
            s = self.proofs[id(edge.proof)] = dumps([m.to_json() for m in edge.proof])
        return s

    def conditions(self, expr: Expr) -> str:
        """The lossless JSON of the residual conditions (hops show ``expr_to_json`` of it)."""
        s = self.exprs.get(id(expr))
        if s is None:
            s = self.exprs[id(expr)] = dumps(expr_to_store(expr))
        return s


def _node_row(node: str, data: dict[str, Any], owner: str, seq: int) -> dict[str, Any]:
    attrs = {k: (str(v) if k == "kind" else v) for k, v in data.items()}
    name = data.get("name")
    return {
        "id": node,
        "account": owner,
        "kind": str(data.get("kind", "")),
        "name": name if isinstance(name, str) else None,
        "admin": bool(data.get("admin")),
        "attrs": dumps(attrs),
        "seq": seq,
    }


def _edge_props(enc: _Encoder, e: DerivedEdge, owner: str, out_rank: int, in_rank: int) -> dict[str, Any]:
    stored = enc.conditions(e.conditions)
    props: dict[str, Any] = {
        "rid": edge_id(e, stored),
        "account": owner,
        "kind": e.kind.value,
        "technique": e.technique,
        "actions": list(e.actions),
        "conditional": e.conditional,
        "expr": stored,
        "proof": enc.proof(e),
        "out_rank": out_rank,
        "in_rank": in_rank,
    }
    if e.access:
        props["access"] = dumps({k: list(v) for k, v in e.access.items()})
    if e.via:
        props["via"] = list(e.via)
    if e.note:
        props["note"] = e.note
    return props


def _in_ranks(g: AccessGraph) -> dict[tuple[str, str, Any], int]:
    ranks: dict[tuple[str, str, Any], int] = {}
    for v, preds in g.graph.pred.items():
        i = 0
        for u, keyed in preds.items():
            for k in keyed:
                ranks[(u, v, k)] = i
                i += 1
    return ranks


def _owners(g: AccessGraph) -> tuple[dict[str, str], tuple[str, ...]]:
    roots = {str(d.get("account")) for _, d in g.graph.nodes(data=True) if d.get("kind") == NodeKind.ACCOUNT}
    owner = {}
    for node, data in g.graph.nodes(data=True):
        acct = data.get("account")
        owner[str(node)] = str(acct) if acct in roots and data.get("kind") not in OUTSIDE_KINDS else ""
    return owner, tuple(sorted(roots))


def build_rows(view: QueryView, *, accounts: set[str] | None = None) -> Rows:
    """Rows for every node and edge (or only those owned by ``accounts``, with stubs for their endpoints)."""
    g = view.graph
    g.require_every_edge("Neo4j load")
    owner, roots = _owners(g)
    rows = Rows(accounts=roots)

    def keep(acct: str) -> bool:
        return accounts is None or acct in accounts or acct == ""

    kinds: dict[str, NodeKind] = {}
    for seq, (node, data) in enumerate(g.graph.nodes.items()):
        kind = NodeKind(data.get("kind", NodeKind.RESOURCE))
        kinds[str(node)] = kind
        if keep(owner[str(node)]):
            rows.nodes[kind].append(_node_row(str(node), data, owner[str(node)], seq))
    enc = _Encoder()
    in_rank = _in_ranks(g)
    stubbed: set[str] = set()
    for u, succs in g.graph.succ.items():
        out_rank = -1
        for v, keyed in succs.items():
            for k, data in keyed.items():
                out_rank += 1
                e: DerivedEdge = data["edge"]
                own = owner[str(u)] or owner[str(v)]
                if accounts is not None and own not in accounts:
                    continue
                props = _edge_props(enc, e, own, out_rank, in_rank[(u, v, k)])
                if e.kind is EdgeKind.ASSUME and kinds[str(u)] in OUTSIDE_KINDS:
                    props["trust"] = dumps([clause_to_json(c) for c in view.trust_conditions(e)])
                rows.edges[e.kind].append({"s": str(u), "t": str(v), "p": props})
                if accounts is not None:
                    for end in (str(u), str(v)):
                        if not keep(owner[end]) and end not in stubbed:
                            stubbed.add(end)
                            rows.stubs[kinds[end]].append(_node_row(end, g.graph.nodes[end], owner[end], -1))
    return rows


def batches(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
