"""The Neo4j store: the built graph in a Neo4j 5 database, queried with Cypher, answering as the memory store.

Cypher does the traversal: bounded variable-length patterns over the act-as relationship types
(``ASSUME|ESCALATE``) find the candidate subgraph of a query (who can reach a resource's holders, what
the outsiders reach, who can reach an admin or a grant). What-if contexts and residual conditions cannot
be evaluated in Cypher, so that subgraph is fetched and the query is finished in Python by the memory
store's own code (iamgraph.graph.queries): the answers are the same, ties included.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any, cast

from iamgraph.edges.base import EdgeKind
from iamgraph.errors import InputError, StoreUnavailable
from iamgraph.graph.queries import exposure, find_paths, privesc, who_can
from iamgraph.graph.queries.base import Analysis, resolve_ref
from iamgraph.graph.queries.budget import Deadline
from iamgraph.graph.queries.explore import edge_details, neighbourhood
from iamgraph.graph.queries.exposure import OUTSIDE_KINDS
from iamgraph.graph.queries.privesc import ESCALATING_KINDS
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.store.base import LoadReport, Source
from iamgraph.store.memory import GraphView
from iamgraph.store.neo4j_load import SCHEMA, Progress, write_rows
from iamgraph.store.neo4j_rows import build_rows
from iamgraph.store.neo4j_view import FetchedView, build_view

__all__ = ["Neo4jStore"]

ACT_AS = "ASSUME|ESCALATE"
_EDGE = "a.id AS s, b.id AS t, properties(r) AS p"
_ESCALATING = sorted(k.value for k in ESCALATING_KINDS)
_OUTSIDE = sorted(k.value for k in OUTSIDE_KINDS)


def _bound(n: int) -> int:
    """A variable-length bound: an int the caller validated, never data."""
    return max(0, int(n))


class Neo4jStore:
    """One connection (the official driver) and one snapshot name; see the module docstring."""

    def __init__(
        self,
        uri: str,
        *,
        user: str | None = None,
        password: str | None = None,
        snapshot: str = "default",
        database: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        try:
            import neo4j
        except ImportError:
            raise StoreUnavailable("the neo4j driver is not installed: pip install 'iamgraph[neo4j]'") from None
        self._neo4j = neo4j
        self.uri = uri
        self.snapshot = snapshot
        self._database = database
        user = user or os.environ.get("NEO4J_USER") or None
        password = password if password is not None else os.environ.get("NEO4J_PASSWORD")
        self._user = user or "neo4j"
        auth = (self._user, password) if password else None
        try:
            self._driver = neo4j.GraphDatabase.driver(
                uri, auth=auth, connection_timeout=timeout, notifications_min_severity="OFF"
            )
        except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
            raise InputError(f"not a Neo4j URI ({exc})", element="--uri") from None
        self._schema_ready = False
        try:
            self._call(lambda: self._driver.verify_connectivity())
        except StoreUnavailable:
            self._driver.close()
            raise

    # -- plumbing --------------------------------------------------------------------------------

    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run a driver call; a down server, refused auth or a failing query is one StoreUnavailable."""
        exc_mod = self._neo4j.exceptions
        try:
            return fn()
        except exc_mod.AuthError:
            raise StoreUnavailable(f"neo4j at {self.uri} refused the credentials of user {self._user!r}") from None
        except (exc_mod.ServiceUnavailable, exc_mod.SessionExpired, OSError) as exc:
            raise StoreUnavailable(f"neo4j at {self.uri} is unavailable: {_first_line(exc)}") from None
        except exc_mod.Neo4jError as exc:
            if (exc.code or "").startswith("Neo.ClientError.Security."):  # e.g. too many failed attempts
                raise StoreUnavailable(
                    f"neo4j at {self.uri} refused the credentials of user {self._user!r}: {exc.message}"
                ) from None
            raise StoreUnavailable(f"neo4j at {self.uri}: {exc.code}: {_first_line(exc)}") from None
        except exc_mod.DriverError as exc:
            raise StoreUnavailable(f"neo4j at {self.uri}: {_first_line(exc)}") from None

    def read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            records, _, _ = self._driver.execute_query(
                query, params, database_=self._database, routing_=self._neo4j.RoutingControl.READ
            )
            return [r.data() for r in records]

        return cast(list[dict[str, Any]], self._call(run))

    def write(self, query: str, **params: Any) -> None:
        def run() -> None:
            with self._driver.session(database=self._database) as session:
                session.execute_write(lambda tx: tx.run(query, params).consume())

        self._call(run)

    def cleanup(self, query: str, **params: Any) -> tuple[int, int]:
        """An auto-commit statement (``CALL ... IN TRANSACTIONS``): (nodes deleted, relationships deleted)."""

        def run() -> tuple[int, int]:
            with self._driver.session(database=self._database) as session:
                counters = session.run(query, params).consume().counters
                return counters.nodes_deleted, counters.relationships_deleted

        return cast(tuple[int, int], self._call(run))

    def ensure_schema(self) -> None:
        """Uniqueness constraint and indexes, created on first use (IF NOT EXISTS)."""
        if self._schema_ready:
            return
        for statement in [*SCHEMA, "CALL db.awaitIndexes(300)"]:
            self.write(statement)
        self._schema_ready = True

    def close(self) -> None:
        self._driver.close()

    # -- loading ---------------------------------------------------------------------------------

    def load(
        self,
        source: Source,
        *,
        snapshot: str | None = None,
        accounts: set[str] | None = None,
        progress: Progress | None = None,
    ) -> LoadReport:
        """Write the graph under ``snapshot``; with ``accounts``, replace only what those accounts own."""
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
        if not self._ids("MATCH (n:IamNode) WHERE n.snapshot = $s RETURN n.id AS id LIMIT 1"):
            raise InputError(
                f'no snapshot "{self.snapshot}" in neo4j at {self.uri} (load one: iamgraph neo4j load)',
                element="snapshot",
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

    def _reach(self, starts: Iterable[str], depth: int, *, reverse: bool = False) -> set[str]:
        """Nodes within ``depth`` act-as hops of the starts (forwards, or backwards), starts included."""
        arrow = f"<-[:{ACT_AS}*0..{_bound(depth)}]-" if reverse else f"-[:{ACT_AS}*0..{_bound(depth)}]->"
        return set(
            self._ids(
                f"UNWIND $ids AS id MATCH (x:IamNode {{snapshot: $s, id: id}}) MATCH (x){arrow}(n) "
                "RETURN DISTINCT n.id AS id",
                ids=sorted(set(starts)),
            )
        )

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

    def who_can(
        self,
        resource: str,
        *,
        action: str | None = None,
        access_level: str | None = None,
        whatif: WhatIf | None = None,
        max_depth: int = 8,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        target = self.resolve(resource, what="resource")
        access = self._edges(f"MATCH (b:IamNode {{snapshot: $s, id: $id}})<-[r:ACCESS]-(a) RETURN {_EDGE}", id=target)
        reach = self._reach((e["s"] for e in access), max_depth - 1, reverse=True)
        steps = self._edges_within(reach, ACT_AS)
        view = self._view(reach | {target}, access + steps)
        return who_can(
            view,
            target,
            action=action,
            access_level=access_level,
            whatif=whatif,
            max_depth=max_depth,
            deadline=deadline,
        )

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
        if max_depth < 1 or limit < 1:
            raise InputError("must be at least 1", element="--max-depth/--limit")
        s, d = self.resolve(source, what="source"), self.resolve(target, what="target")
        holders = self._ids("MATCH (b:IamNode {snapshot: $s, id: $id})<-[:ACCESS]-(a) RETURN DISTINCT a.id AS id", id=d)
        # every node on a path of at most max_depth hops is reachable from s and reaches d within it
        ahead = self._reach([s], max_depth)
        behind = self._reach([d], max_depth, reverse=True) | self._reach(holders, max_depth - 1, reverse=True)
        between = (ahead & behind) | {s, d}
        steps = self._edges_within(between, ACT_AS)
        access = [e for e in self._out_edges(between & set(holders), "ACCESS") if e["t"] == d]
        view = self._view(between, steps + access)
        return find_paths(
            view, s, d, all_paths=all_paths, max_depth=max_depth, limit=limit, whatif=whatif, deadline=deadline
        )

    def privesc(
        self, *, whatif: WhatIf | None = None, max_depth: int = 8, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        self._require_snapshot()
        admins = sorted(self._ids("MATCH (n:IamNode) WHERE n.snapshot = $s AND n.admin RETURN n.id AS id"))
        # who reaches an admin, or a node holding a grant edge, within max_depth act-as hops
        candidates = self._ids(
            "MATCH (x:IamNode) WHERE x.snapshot = $s AND (x.admin OR EXISTS { (x)-[:GRANT]->() }) "
            f"MATCH (x)<-[:{ACT_AS}*0..{_bound(max_depth)}]-(p) "
            "WHERE p.kind IN $kinds AND NOT p.admin RETURN DISTINCT p.id AS id",
            kinds=_ESCALATING,
        )
        reach = self._reach(candidates, max_depth)
        edges = self._edges_within(reach, f"{ACT_AS}|GRANT")
        result = privesc(self._view(reach, edges), whatif=whatif, max_depth=max_depth, deadline=deadline)
        return {**result, "admins": admins}

    def exposure(
        self, *, whatif: WhatIf | None = None, max_depth: int = 8, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        self._require_snapshot()
        outsiders = self._ids(
            "MATCH (n:IamNode) WHERE n.snapshot = $s AND n.kind IN $kinds RETURN n.id AS id", kinds=_OUTSIDE
        )
        reach = self._reach(outsiders, max_depth)
        edges = self._out_edges(reach, f"{ACT_AS}|ACCESS")
        view = self._view(reach, edges)
        return exposure(view, whatif=whatif, max_depth=max_depth, deadline=deadline)

    def neighbourhood(
        self,
        node: str,
        *,
        depth: int = 1,
        limit: int = 200,
        whatif: WhatIf | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        if depth < 1 or limit < 1:
            raise InputError("must be at least 1", element="depth/limit")
        center = self.resolve(node, what="node")
        near = set(
            self._ids(
                f"MATCH (c:IamNode {{snapshot: $s, id: $id}})-[*0..{_bound(depth)}]-(n) RETURN DISTINCT n.id AS id",
                id=center,
            )
        )
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:300]
