"""The Neo4j store: the built graph in a Neo4j 5 database, queried with Cypher, answering as the memory store.

Cypher does the traversal: a bounded breadth-first search, one statement per level, over the act-as
relationship types (``ASSUME|ESCALATE``) finds the candidate subgraph of a query (who can reach a
resource's holders, what the outsiders reach, who can reach an admin or a grant). What-if contexts and
residual conditions cannot be evaluated in Cypher, so that subgraph is fetched and the query is finished
in Python by the memory store's own code (iamgraph.graph.queries): the answers are the same, ties
included. The connection, error handling and time budgets of the statements are in neo4j_conn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

from iamgraph.edges.base import EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.graph.queries import exposure, find_paths, privesc, who_can
from iamgraph.graph.queries.base import Analysis, admin_state, resolve_ref
from iamgraph.graph.queries.budget import Deadline
from iamgraph.graph.queries.explore import check_neighbourhood_bounds, check_search, edge_details, neighbourhood, search
from iamgraph.graph.queries.exposure import OUTSIDE_KINDS
from iamgraph.graph.queries.paths import check_path_bounds
from iamgraph.graph.queries.privesc import ESCALATING_KINDS, admins_json
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.graph.queries.who_can import WAYS_IN
from iamgraph.store.base import LoadReport, SnapshotNotFound, Source
from iamgraph.store.memory import GraphView
from iamgraph.store.neo4j_conn import Neo4jConnection, bounded
from iamgraph.store.neo4j_load import SCHEMA, Progress, write_rows
from iamgraph.store.neo4j_rows import build_rows
from iamgraph.store.neo4j_view import FetchedView, build_view

__all__ = ["Neo4jStore"]

ACT_AS = "ASSUME|ESCALATE"
_EDGE = "a.id AS s, b.id AS t, properties(r) AS p"
_ESCALATING = sorted(k.value for k in ESCALATING_KINDS)
_OUTSIDE = sorted(k.value for k in OUTSIDE_KINDS)
# who-can's way onto a target by its node kind (``queries.who_can.ways_in``) as relationship types
_WAYS_IN = {kind: "|".join(sorted(k.value.upper() for k in kinds)) for kind, kinds in WAYS_IN.items()}
# a node's search keys as the query layer's SearchIndex has them: ARN, name, last part of the ARN (lower case)
_SEARCH_KEYS = "[toLower(n.id), toLower(n.name), toLower(last(split(last(split(n.id, '/')), ':')))]"


def _bound(n: int) -> int:
    """A variable-length bound: an int the caller validated, never data."""
    return max(0, int(n))


class Neo4jStore(Neo4jConnection):
    """One connection (the official driver) and one snapshot name; see the module docstring."""

    # -- schema and loading ----------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Uniqueness constraint and indexes, created on first use (IF NOT EXISTS)."""
        if self._schema_ready:
            return
        for statement in [*SCHEMA, "CALL db.awaitIndexes(300)"]:
            self.write(statement)
        self._schema_ready = True

    def load(
        self,
        source: Source,
        *,
        snapshot: str | None = None,
        accounts: set[str] | None = None,
        progress: Progress | None = None,
    ) -> LoadReport:
        """Write the graph under ``snapshot``; with ``accounts``, replace only what those accounts own."""
        (source if isinstance(source, AccessGraph) else source.graph).require_every_edge("Neo4j load")
        self.ensure_schema()
        name = snapshot or self.snapshot
        view = source if isinstance(source, Analysis) else GraphView(source)
        rows = build_rows(view, accounts=accounts)
        if accounts is not None and not set(accounts) <= set(rows.accounts):
            unknown = ", ".join(sorted(set(accounts) - set(rows.accounts)))
            raise InputError(f"not an account of the snapshot: {unknown}", element="--account")
        self.snapshot = name
        return write_rows(self, rows, snapshot=name, accounts=accounts, progress=progress)

    def drop(self, snapshot: str | None = None) -> int:
        """Delete a whole snapshot (nodes and relationships); the number of nodes deleted."""
        return self.cleanup(
            "MATCH (n:IamNode) WHERE n.snapshot = $s CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 2000 ROWS",
            s=snapshot or self.snapshot,
        )[0]

    # -- the snapshots held -----------------------------------------------------------------------

    def snapshot_names(self) -> list[str]:
        found = self.read("MATCH (n:IamNode) RETURN DISTINCT n.snapshot AS s")
        return sorted(str(r["s"]) for r in found)

    def has_snapshot(self, name: str) -> bool:
        return bool(self.read("MATCH (n:IamNode) WHERE n.snapshot = $s RETURN n.id LIMIT 1", s=name))

    def snapshots(self, *, name: str | None = None) -> list[dict[str, Any]]:
        """Every snapshot (or the one named) with its counts; ``loaded_at`` is the time of its latest load."""
        found = self.read(
            f"MATCH (n:IamNode) {'WHERE n.snapshot = $s ' if name is not None else ''}"
            "WITH n.snapshot AS name, count(n) AS nodes, sum(COUNT { (n)-->() }) AS edges, "
            "sum(CASE WHEN n.kind = $account THEN 1 ELSE 0 END) AS accounts, "
            "sum(CASE WHEN n.admin THEN 1 ELSE 0 END) AS admins, max(n.load_tag) AS tag "
            "RETURN name, nodes, edges, accounts, admins, tag ORDER BY name",
            account=NodeKind.ACCOUNT.value,
            s=name,
        )
        keys = ("nodes", "edges", "accounts", "admins")
        return [
            {"name": str(r["name"]), **{k: int(r[k]) for k in keys}, "loaded_at": _tag_time(r["tag"])} for r in found
        ]

    def counts(self, snapshot: str | None = None) -> dict[str, int]:
        """Nodes and relationships of a snapshot (for tests and the load report)."""
        s = snapshot or self.snapshot
        nodes = self.read("MATCH (n:IamNode) WHERE n.snapshot = $s RETURN count(n) AS c", s=s)[0]["c"]
        rels = self.read("MATCH (:IamNode {snapshot: $s})-[r]->() RETURN count(r) AS c", s=s)[0]["c"]
        return {"nodes": int(nodes), "relationships": int(rels)}

    # -- lookup ----------------------------------------------------------------------------------

    def _ids(self, query: str, **params: Any) -> list[str]:
        return [str(r["id"]) for r in self.read(query, s=self.snapshot, **params)]

    def resolve(self, ref: str, *, what: str = "principal or resource") -> str:
        """The memory store's lookup (id, account id, unique name, unique last name part), in Cypher."""
        self._require_snapshot()
        node = "MATCH (n:IamNode) WHERE n.snapshot = $s"
        return resolve_ref(
            ref,
            what,
            exists=lambda n: bool(self._ids(f"{node} AND n.id = $id RETURN n.id AS id", id=n)),
            named=lambda name: self._ids(f"{node} AND n.name = $name RETURN n.id AS id ORDER BY n.seq", name=name),
            suffixed=lambda ends: self._ids(
                f"{node} AND (n.id ENDS WITH $a OR n.id ENDS WITH $b) RETURN n.id AS id ORDER BY n.seq",
                a=ends[0],
                b=ends[1],
            ),
            pool=self._pool,
        )

    def _pool(self) -> list[str]:
        found = self.read("MATCH (n:IamNode) WHERE n.snapshot = $s RETURN n.id AS id, n.name AS name", s=self.snapshot)
        return [str(r["id"]) for r in found] + [str(r["name"]) for r in found if r["name"]]

    def _require_snapshot(self) -> None:
        if not self.has_snapshot(self.snapshot):
            raise SnapshotNotFound(
                f'no snapshot "{self.snapshot}" in neo4j at {self.uri} (load one: iamgraph neo4j load)',
                snapshot=self.snapshot,
                available=self.snapshot_names(),
            )

    # -- fetching subgraphs ----------------------------------------------------------------------

    def _edges(self, query: str, **params: Any) -> list[dict[str, Any]]:
        return self.read(query, s=self.snapshot, **params)

    def _view(self, nodes: Iterable[str], edges: list[dict[str, Any]]) -> FetchedView:
        ids = sorted(set(nodes))
        found = self.read(
            "UNWIND $ids AS id MATCH (n:IamNode {snapshot: $s, id: id}) "
            "RETURN n.id AS id, n.attrs AS attrs, n.seq AS seq",
            s=self.snapshot,
            ids=ids,
        )
        return build_view(found, edges)

    def _reach(
        self, starts: Iterable[str], depth: int, *, reverse: bool | None = False, types: str = ACT_AS
    ) -> set[str]:
        """Nodes within ``depth`` hops of the starts over ``types``: forwards, backwards (``reverse``) or
        both ways (``None``), starts included.

        Breadth-first, one statement per level over the new frontier only. A variable-length pattern
        (``-[*0..8]->``) enumerates every path, which explodes on dense parts of the graph (an admin's edge
        to every principal of its account); this visits each node once."""
        arrow = {False: f"-[:{types}]->", True: f"<-[:{types}]-", None: f"-[:{types}]-"}[reverse]
        query = f"UNWIND $ids AS id MATCH (:IamNode {{snapshot: $s, id: id}}){arrow}(n) RETURN DISTINCT n.id AS id"
        seen = set(starts)
        frontier = sorted(seen)
        for _ in range(_bound(depth)):
            if not frontier:
                break
            found = set(self._ids(query, ids=frontier)) - seen
            seen |= found
            frontier = sorted(found)
        return seen

    def _edges_within(self, nodes: Iterable[str], types: str) -> list[dict[str, Any]]:
        """Relationships of the given types with both ends in ``nodes``."""
        return self._edges(
            f"UNWIND $ids AS id MATCH (a:IamNode {{snapshot: $s, id: id}})-[r:{types}]->(b) "
            f"WHERE b.id IN $ids RETURN {_EDGE}",
            ids=sorted(set(nodes)),
        )

    def _out_edges(self, nodes: Iterable[str], types: str) -> list[dict[str, Any]]:
        return self._edges(
            f"UNWIND $ids AS id MATCH (a:IamNode {{snapshot: $s, id: id}})-[r:{types}]->(b) RETURN {_EDGE}",
            ids=sorted(set(nodes)),
        )

    # -- queries ---------------------------------------------------------------------------------

    @bounded
    def who_can(
        self,
        resource: str,
        *,
        action: str | None = None,
        access_level: str | None = None,
        whatif: WhatIf | None = None,
        max_depth: int = 8,
        limit: int | None = None,
        offset: int = 0,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        target = self.resolve(resource, what="resource")
        kinds = self.read("MATCH (n:IamNode {snapshot: $s, id: $id}) RETURN n.kind AS kind", s=self.snapshot, id=target)
        types = _WAYS_IN.get(kinds[0]["kind"] if kinds else "", "ACCESS")  # the query layer's ways_in, by type
        access = self._edges(f"MATCH (b:IamNode {{snapshot: $s, id: $id}})<-[r:{types}]-(a) RETURN {_EDGE}", id=target)
        reach = self._reach((e["s"] for e in access), max_depth - 1, reverse=True)
        steps = self._edges_within(reach - {target}, ACT_AS)  # a principal target is walked through by no one
        view = self._view(reach | {target}, access + steps)
        return who_can(
            view,
            target,
            action=action,
            access_level=access_level,
            whatif=whatif,
            max_depth=max_depth,
            limit=limit,
            offset=offset,
            deadline=deadline,
        )

    @bounded
    def path(
        self,
        source: str,
        target: str,
        *,
        all_paths: bool = False,
        max_depth: int = 6,
        limit: int = 20,
        whatif: WhatIf | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        check_path_bounds(max_depth, limit)
        s, d = self.resolve(source, what="source"), self.resolve(target, what="target")
        # the nodes a last hop starts from: access onto the target, membership of it (a group)
        holders = self._ids(
            "MATCH (b:IamNode {snapshot: $s, id: $id})<-[:ACCESS|MEMBER]-(a) RETURN DISTINCT a.id AS id", id=d
        )
        # every node on a path of at most max_depth hops is reachable from s and reaches d within it
        ahead = self._reach([s], max_depth)
        behind = self._reach([d], max_depth, reverse=True) | self._reach(holders, max_depth - 1, reverse=True)
        between = (ahead & behind) | {s, d}
        steps = self._edges_within(between, ACT_AS)
        access = [e for e in self._out_edges(between & set(holders), "ACCESS|MEMBER") if e["t"] == d]
        view = self._view(between, steps + access)
        return find_paths(
            view, s, d, all_paths=all_paths, max_depth=max_depth, limit=limit, whatif=whatif, deadline=deadline
        )

    @bounded
    def privesc(
        self, *, whatif: WhatIf | None = None, max_depth: int = 8, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        self._require_snapshot()
        whatif = whatif or WhatIf()
        states = {
            r["id"]: admin_state(json.loads(r["attrs"]), whatif)
            for r in self.read(
                "MATCH (n:IamNode) WHERE n.snapshot = $s AND n.admin RETURN n.id AS id, n.attrs AS attrs",
                s=self.snapshot,
            )
        }
        # who reaches an admin, or a node holding a grant edge, within max_depth act-as hops
        goals = self._ids(
            "MATCH (x:IamNode) WHERE x.snapshot = $s AND (x.admin OR EXISTS { (x)-[:GRANT]->() }) RETURN x.id AS id"
        )
        behind = self._reach(goals, max_depth, reverse=True)
        # every principal but those admin outright under the what-if may escalate
        candidates = self._ids(
            "UNWIND $ids AS id MATCH (p:IamNode {snapshot: $s, id: id}) "
            "WHERE p.kind IN $kinds AND NOT p.id IN $firm RETURN p.id AS id",
            ids=sorted(behind),
            kinds=_ESCALATING,
            firm=sorted(n for n, state in states.items() if state is True),
        )
        reach = self._reach(candidates, max_depth)
        edges = self._edges_within(reach, f"{ACT_AS}|GRANT")
        result = privesc(self._view(reach, edges), whatif=whatif, max_depth=max_depth, deadline=deadline)
        return {**result, **admins_json(states)}

    @bounded
    def exposure(
        self,
        *,
        whatif: WhatIf | None = None,
        max_depth: int = 8,
        limit: int | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        self._require_snapshot()
        outsiders = self._ids(
            "MATCH (n:IamNode) WHERE n.snapshot = $s AND n.kind IN $kinds RETURN n.id AS id", kinds=_OUTSIDE
        )
        reach = self._reach(outsiders, max_depth)
        edges = self._out_edges(reach, f"{ACT_AS}|ACCESS")
        # the resources come along with their attributes: the counts go by each node's account
        view = self._view(reach | {e["t"] for e in edges}, edges)
        return exposure(view, whatif=whatif, max_depth=max_depth, limit=limit, deadline=deadline)

    @bounded
    def neighbourhood(
        self,
        node: str,
        *,
        depth: int = 1,
        limit: int = 200,
        whatif: WhatIf | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        check_neighbourhood_bounds(depth, limit)
        center = self.resolve(node, what="node")
        near = self._reach([center], depth, reverse=None, types="MEMBER|ASSUME|ESCALATE|GRANT|ACCESS")
        edges = self._edges_within(near, "MEMBER|ASSUME|ESCALATE|GRANT|ACCESS")
        view = self._view(near, edges)
        return neighbourhood(cast(Analysis, view), center, depth=depth, limit=limit, whatif=whatif, deadline=deadline)

    def node(self, node: str) -> dict[str, Any]:
        n = self.resolve(node, what="node")
        found = self.read("MATCH (n:IamNode {snapshot: $s, id: $id}) RETURN n.attrs AS attrs", s=self.snapshot, id=n)
        attrs = json.loads(found[0]["attrs"])
        counts = {}
        for direction, pattern in (("edges_in", "<-[r]-"), ("edges_out", "-[r]->")):
            rows = self.read(
                f"MATCH (n:IamNode {{snapshot: $s, id: $id}}){pattern}() RETURN r.kind AS k, count(*) AS c",
                s=self.snapshot,
                id=n,
            )
            counts[direction] = dict(sorted((str(r["k"]), int(r["c"])) for r in rows))
        return {"node": {"id": n, **attrs, "admin": bool(attrs.get("admin"))}, **counts}

    def edge(
        self,
        source: str,
        target: str,
        *,
        kind: EdgeKind | None = None,
        technique: str | None = None,
        whatif: WhatIf | None = None,
    ) -> dict[str, Any]:
        s, t = self.resolve(source, what="source"), self.resolve(target, what="target")
        edges = self._edges(
            f"MATCH (a:IamNode {{snapshot: $s, id: $a}})-[r]->(b:IamNode {{snapshot: $s, id: $b}}) RETURN {_EDGE}",
            a=s,
            b=t,
        )
        view = cast(Analysis, self._view({s, t}, edges))
        return edge_details(view, s, t, kind=kind, technique=technique, whatif=whatif)

    def search(self, prefix: str, *, limit: int = 20) -> dict[str, Any]:
        """The first ``limit`` + 1 matches in the search index's order, then the query layer's own search."""
        check_search(prefix, limit)
        self._require_snapshot()
        found = self.read(
            f"MATCH (n:IamNode) WHERE n.snapshot = $s WITH n, [k IN {_SEARCH_KEYS} WHERE k STARTS WITH $q] AS keys "
            "WHERE size(keys) > 0 WITH n, reduce(m = keys[0], k IN keys | CASE WHEN k < m THEN k ELSE m END) AS first "
            "RETURN n.id AS id, n.attrs AS attrs, n.seq AS seq ORDER BY first, n.id LIMIT $n",
            s=self.snapshot,
            q=prefix.lower(),
            n=limit + 1,
        )
        return search(cast(Analysis, build_view(found, [])), prefix, limit=limit)


def _tag_time(tag: Any) -> str | None:
    """A load tag (microseconds since the epoch) as an ISO time."""
    if not isinstance(tag, int):
        return None
    return datetime.fromtimestamp(tag / 1e6, UTC).isoformat(timespec="seconds")
