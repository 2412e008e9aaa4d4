"""Writing a built graph to Neo4j: parameterised UNWIND batches, update tags, stale-data cleanup.

As Cartography does, every node and relationship written by a load carries that load's ``load_tag``;
what the load's accounts own and still carries an older tag is gone from the estate and is deleted.
Labels and relationship types in these statements come only from the NodeKind / EdgeKind enums.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.store.base import LoadReport
from iamgraph.store.neo4j_rows import NODE_PROPS, REL_PROPS, Rows, batches, label_of, rel_type

if TYPE_CHECKING:
    from iamgraph.store.neo4j_store import Neo4jStore

__all__ = ["SCHEMA", "write_rows"]

Progress = Callable[[str, int, int], None]
BATCH = 10_000

_ALL_LABELS = ":".join(label_of(k) for k in NodeKind)
SCHEMA = [
    "CREATE CONSTRAINT iamgraph_node_unique IF NOT EXISTS FOR (n:IamNode) REQUIRE (n.snapshot, n.id) IS UNIQUE",
    "CREATE INDEX iamgraph_node_account IF NOT EXISTS FOR (n:IamNode) ON (n.snapshot, n.account)",
    "CREATE INDEX iamgraph_node_kind IF NOT EXISTS FOR (n:IamNode) ON (n.snapshot, n.kind)",
    "CREATE INDEX iamgraph_node_name IF NOT EXISTS FOR (n:IamNode) ON (n.snapshot, n.name)",
    *(
        f"CREATE INDEX iamgraph_rel_{k.value} IF NOT EXISTS FOR ()-[r:{rel_type(k)}]-() ON (r.snapshot, r.account)"
        for k in EdgeKind
    ),
]


def _props(var: str, names: tuple[str, ...]) -> str:
    """``{snapshot: $snapshot, load_tag: $tag, id: row.id, ...}``: a literal map over fixed property names.

    Listing the names (rather than ``SET r = row``) lets the planner see that writing relationship
    properties cannot conflict with the node look-ups, so it streams the batch instead of buffering it.
    """
    return "{" + ", ".join(["snapshot: $snapshot", "load_tag: $tag", *(f"{p}: {var}.{p}" for p in names)]) + "}"


def _node_create(kind: NodeKind) -> str:
    return f"UNWIND $rows AS row CREATE (n:IamNode:{label_of(kind)} {_props('row', NODE_PROPS)})"


def _node_merge(kind: NodeKind) -> str:
    return (
        "UNWIND $rows AS row MERGE (n:IamNode {snapshot: $snapshot, id: row.id}) "
        f"REMOVE n:{_ALL_LABELS} SET n = row, n.snapshot = $snapshot, n.load_tag = $tag, n:{label_of(kind)}"
    )


def _node_stub(kind: NodeKind) -> str:
    """An endpoint owned by an account outside this load: created if missing, never changed."""
    return (
        "UNWIND $rows AS row MERGE (n:IamNode {snapshot: $snapshot, id: row.id}) "
        f"ON CREATE SET n = row, n.snapshot = $snapshot, n.load_tag = $tag, n:{label_of(kind)}"
    )


def _rel_write(kind: EdgeKind, merge: bool) -> str:
    match = (
        "UNWIND $rows AS row "
        "MATCH (a:IamNode {snapshot: $snapshot, id: row.s}) "
        "MATCH (b:IamNode {snapshot: $snapshot, id: row.t}) "
    )
    if merge:
        return (
            match + f"MERGE (a)-[r:{rel_type(kind)} {{rid: row.p.rid}}]->(b) "
            "SET r = row.p, r.snapshot = $snapshot, r.load_tag = $tag"
        )
    return match + f"CREATE (a)-[r:{rel_type(kind)} {_props('row.p', REL_PROPS)}]->(b)"


_STALE_RELS = (
    "MATCH ()-[r:{type}]->() WHERE r.snapshot = $snapshot AND r.account IN $accounts AND r.load_tag <> $tag "
    "CALL (r) {{ DELETE r }} IN TRANSACTIONS OF 20000 ROWS"
)
_STALE_NODES = (
    "MATCH (n:IamNode) WHERE n.snapshot = $snapshot AND n.account IN $accounts AND n.load_tag <> $tag "
    "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"
)
_ORPHANS = (
    "MATCH (n:IamNode) WHERE n.snapshot = $snapshot AND n.account = '' AND NOT (n)--() "
    "CALL (n) { DELETE n } IN TRANSACTIONS OF 5000 ROWS"
)


def write_rows(
    store: Neo4jStore, rows: Rows, *, snapshot: str, accounts: set[str] | None, progress: Progress | None = None
) -> LoadReport:
    """Write nodes, then relationships, then delete what the loaded accounts no longer have."""
    started = time.perf_counter()
    tag = time.time_ns() // 1000
    scope = sorted(accounts) if accounts is not None else _accounts_in_db(store, snapshot, rows)
    owned_fresh = not store.read(
        "MATCH (n:IamNode) WHERE n.snapshot = $snapshot AND n.account IN $accounts AND n.account <> '' "
        "RETURN n.id LIMIT 1",
        snapshot=snapshot,
        accounts=scope,
    )
    empty = owned_fresh and not store.read(
        "MATCH (n:IamNode) WHERE n.snapshot = $snapshot RETURN n.id LIMIT 1", snapshot=snapshot
    )
    params: dict[str, Any] = {"snapshot": snapshot, "tag": tag}
    timings: dict[str, float] = {}
    total = rows.node_count + rows.edge_count
    done = 0

    def step(statement: str, items: list[dict[str, Any]], what: str) -> None:
        nonlocal done
        for batch in batches(items, BATCH):
            store.write(statement, rows=batch, **params)
            done += len(batch)
            if progress:
                progress(what, done, total)

    t0 = time.perf_counter()
    for kind, items in rows.nodes.items():
        step(_node_create(kind) if owned_fresh else _node_merge(kind), [r for r in items if r["account"]], "nodes")
        step(_node_create(kind) if empty else _node_merge(kind), [r for r in items if not r["account"]], "nodes")
    for kind, items in rows.stubs.items():
        step(_node_stub(kind), items, "nodes")
    timings["nodes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for ekind, items in rows.edges.items():
        step(_rel_write(ekind, merge=not owned_fresh), items, "relationships")
    timings["relationships"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    removed_rels = removed_nodes = 0
    if not owned_fresh:
        for ekind in EdgeKind:
            removed_rels += store.cleanup(_STALE_RELS.format(type=rel_type(ekind)), accounts=scope, **params)[1]
        removed_nodes, more_rels = store.cleanup(_STALE_NODES, accounts=scope, **params)
        removed_rels += more_rels
        removed_nodes += store.cleanup(_ORPHANS, **params)[0]
    timings["cleanup"] = time.perf_counter() - t0
    return LoadReport(
        snapshot=snapshot,
        load_tag=tag,
        accounts=tuple(scope) if accounts is not None else rows.accounts,
        nodes=rows.node_count,
        relationships=rows.edge_count,
        removed_nodes=removed_nodes,
        removed_relationships=removed_rels,
        seconds=time.perf_counter() - started,
        timings=timings,
    )


def _accounts_in_db(store: Neo4jStore, snapshot: str, rows: Rows) -> list[str]:
    """A whole-snapshot load replaces every account the snapshot held, and the shared nodes."""
    found = store.read(
        "MATCH (n:IamNode) WHERE n.snapshot = $snapshot RETURN DISTINCT n.account AS a", snapshot=snapshot
    )
    return sorted({str(r["a"]) for r in found} | set(rows.accounts) | {""})
