"""The access graph: a networkx MultiDiGraph of nodes (principals, resources, outsiders) and DerivedEdges.

Node ids are ARNs (``*`` for anyone, the service name for AWS services, the provider ARN or host for
federated providers). Every edge carries its DerivedEdge under the attribute ``edge``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from typing import Any, Protocol

import networkx as nx

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.model._fast import copier

__all__ = ["ACCESS_HOPS_KEPT", "AccessGraph", "AccessSource", "InSources", "NodeKind", "OutTargets", "Recent"]

# Access hops' JSON kept for later queries: at most twice this many (about 4 kB each at 5,000 principals,
# with their encoded form: an access edge lists up to hundreds of actions)
ACCESS_HOPS_KEPT = 32_768


class Recent(dict[Any, Any]):
    """A memo that keeps its most recently added entries: once it holds more than twice ``limit``, the
    older ones go until ``limit`` are left (in the order they were added; each lookup stays a plain dict's).
    For what grows with the queries asked rather than with the graph: the JSON of access hops, one per
    access edge a query touched, grew a 5,000-principal server by 3.2 GB over 12,000 queries."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        if len(self) > 2 * self.limit:
            for old in list(islice(self, len(self) - self.limit)):  # one step under the interpreter's lock
                self.pop(old, None)  # another thread may have let it go already


class AccessSource(Protocol):
    """Where a graph built with resource access on demand gets the access edges onto a resource
    (``iamgraph.graph.ondemand.OnDemandAccess``)."""

    def onto(self, node: str, order: Callable[[str], int]) -> list[DerivedEdge] | None: ...

    def between(self, source: str, node: str, order: Callable[[str], int]) -> list[DerivedEdge] | None: ...

    def by_source(self, node: str, order: Callable[[str], int]) -> dict[str, list[DerivedEdge]] | None: ...


class NodeKind(StrEnum):
    ACCOUNT = "account"  # the root user of an account of the snapshot
    USER = "user"
    GROUP = "group"
    ROLE = "role"
    RESOURCE = "resource"
    EXTERNAL_ACCOUNT = "external_account"  # an account outside the snapshot (or outside the organization)
    EXTERNAL_PRINCIPAL = "external_principal"  # a named user/role of such an account
    SERVICE = "service"
    PROVIDER = "provider"  # SAML / OIDC identity provider
    ANYONE = "anyone"


_ACCESS_ONLY = frozenset({EdgeKind.ACCESS})
PRINCIPAL_KINDS = frozenset({NodeKind.ACCOUNT, NodeKind.USER, NodeKind.ROLE})
_BASES: dict[tuple[EdgeKind, str], str] = {}  # edge keys' "kind:technique" part, made once per pair


class _EdgeDataHolder:
    """An instance whose attribute dict becomes an edge's data dict (``{"edge": edge}``): a key-sharing dict
    (PEP 412), kept once the instance is gone. A plain ``dict`` in every respect, but its keys table is the
    class's, not its own: 96 bytes where a dict display takes 192 (CPython 3.11), made in about the same
    time alone (1 % more instructions in an 800-principal build). A graph keeps one per edge (3.4 million
    at 50,000 principals) and one per pair of nodes with edges: those are the attribute dicts of instances
    of a class made per key (``_keys_holder``)."""


_KEYS_HOLDERS: dict[str, type] = {}


def _keys_holder(key: str) -> type:
    """The class whose instances' attribute dicts become a node pair's edges by key when ``key`` is the
    first (one per edge kind and technique: a few dozen). A second key added to such a dict makes it an
    ordinary dict, as any dict."""
    cls = _KEYS_HOLDERS.get(key)
    if cls is None:
        cls = _KEYS_HOLDERS[key] = type("_KeysHolder", (), {"__doc__": f"a node pair's edges by key, {key} first"})
    return cls


def _base(edge: DerivedEdge) -> str:
    """The ``kind:technique`` part of ``edge``'s key."""
    base = _BASES.get((edge.kind, edge.technique))
    if base is None:
        base = _BASES[(edge.kind, edge.technique)] = f"{edge.kind.value}:{edge.technique}"
    return base


def _add_key(keys: dict[str, dict[str, Any]], base: str, edge: DerivedEdge) -> None:
    """``edge`` into the edges by key of a node pair that has some: under ``base``, or ``base:N`` for the
    N-th other condition; nothing when an edge with its key base and conditions is there."""
    key, n = base, 0
    while key in keys:
        if keys[key]["edge"].conditions == edge.conditions:
            return
        n += 1
        key = f"{base}:{n}"
    holder = _EdgeDataHolder()
    holder.edge = edge  # type: ignore[attr-defined]
    keys[key] = holder.__dict__


_retargeted = copier(DerivedEdge, "target")  # copies of an edge, one per target


# MultiDiGraph keeps its adjacency in plain dicts (the factories networkx documents as the defaults):
# AccessGraph.add_edges may then fill them itself
_PLAIN_ADJACENCY = all(
    getattr(nx.MultiDiGraph, f) is dict
    for f in (
        "adjlist_outer_dict_factory",
        "adjlist_inner_dict_factory",
        "edge_key_dict_factory",
        "edge_attr_dict_factory",
    )
)


@dataclass(frozen=True, slots=True)
class InSources:
    """The in-edges of a node grouped by source (sources in the order of their first edge), and three sets
    of sources as bitsets over ``AccessGraph.numbers``: ``every`` source with an edge that may hold, those
    with one that holds outright (``firm``), and those whose first such edge is conditional (``mixed``).
    ``rank``: each source's position in ``groups``."""

    groups: list[tuple[str, list[DerivedEdge]]]
    every: int
    firm: int
    mixed: int
    rank: dict[str, int]


@dataclass(frozen=True, slots=True)
class OutTargets:
    """The out-edges of a node that may hold (conditions not False) grouped by target, targets in the order
    of their first such edge; ``every`` target as a bitset over ``AccessGraph.numbers``, and those with an
    edge that holds outright (``firm``); ``rank``: each target's position in ``groups``."""

    groups: list[tuple[str, list[DerivedEdge]]]
    every: int
    rank: dict[str, int]
    firm: int = 0


@dataclass(slots=True)
class AccessGraph:
    graph: nx.MultiDiGraph[str] = field(default_factory=nx.MultiDiGraph)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # out- and in-edges by node and kind, built on first use by ``out_edges_of`` / ``in_edges_of`` and
    # dropped by every edge added; never pickled (rebuilt on first use)
    _by_kind: dict[str, dict[EdgeKind, list[DerivedEdge]]] | None = field(default=None, repr=False, compare=False)
    _in_by_kind: dict[str, dict[EdgeKind, list[DerivedEdge]]] | None = field(default=None, repr=False, compare=False)
    # in-edges of a node of some kinds grouped by source, made on first use by ``in_sources_of``
    _in_sources: dict[tuple[frozenset[EdgeKind], str], InSources] = field(
        default_factory=dict, repr=False, compare=False
    )
    # out-edges of a node of some kinds grouped by target, made on first use by ``out_targets_of``
    _out_targets: dict[tuple[frozenset[EdgeKind], str], OutTargets] = field(
        default_factory=dict, repr=False, compare=False
    )
    # node -> its bit in the bitsets of ``InSources`` (resources last, so that sets of principals are short)
    _numbers: dict[str, int] | None = field(default=None, repr=False, compare=False)
    _names: list[str] | None = field(default=None, repr=False, compare=False)  # the nodes by number
    # JSON of an edge as a hop under its own conditions, by edge identity (see ``queries.base.HopMemo``):
    # every edge but access edges (their number grows with the graph, not with the queries) ...
    hop_cache: dict[int, tuple[DerivedEdge, dict[str, Any]]] = field(default_factory=dict, repr=False, compare=False)
    # ... and the most recent access edges (millions of them in a large estate)
    access_hops: Recent = field(default_factory=lambda: Recent(ACCESS_HOPS_KEPT), repr=False, compare=False)
    # JSON of the action lists, condition expressions and proofs that edges share, by identity, and of
    # proof entries by value (``queries.base.hop_json``); those of access hops apart, kept as long as them
    json_parts: dict[Any, tuple[object, Any]] = field(default_factory=dict, repr=False, compare=False)
    access_parts: Recent = field(default_factory=lambda: Recent(4 * ACCESS_HOPS_KEPT), repr=False, compare=False)
    # what a query derives from the whole graph under no what-if, kept for the next one (by the query's
    # own key); dropped by every edge added, never pickled
    query_memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # resource access on demand (``iamgraph.graph.ondemand``): the access edges onto a resource come from
    # here, and the graph holds only those of outsiders; None when the build made them all
    on_demand: AccessSource | None = field(default=None, repr=False, compare=False)
    _order: dict[str, int] | None = field(default=None, repr=False, compare=False)  # node -> place in graph

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.graph, self.timings, self.warnings, self.on_demand)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.graph, self.timings, self.warnings, *rest = state  # a graph pickled before on-demand access: 3
        self.on_demand = rest[0] if rest else None
        self._order = None
        self._by_kind = self._in_by_kind = self._numbers = self._names = None
        self._in_sources = {}
        self._out_targets = {}
        self.hop_cache = {}
        self.json_parts = {}
        self.access_hops = Recent(ACCESS_HOPS_KEPT)
        self.access_parts = Recent(4 * ACCESS_HOPS_KEPT)
        self.query_memo = {}

    def add_node(self, node_id: str, kind: NodeKind, **attrs: Any) -> None:
        if node_id in self.graph:
            self.graph.nodes[node_id].update({k: v for k, v in attrs.items() if v is not None})
            return
        self.graph.add_node(node_id, kind=kind, **attrs)

    def add_edge(self, edge: DerivedEdge) -> None:
        """Add ``edge`` unless an equal one is there: one edge per (kind, technique, residual condition)
        between two nodes. Keys are ``kind:technique`` and ``kind:technique:N`` for the N-th other
        condition, so they do not depend on the process (no hashes of strings)."""
        key = self._free_key(edge)
        if key is not None:
            self.put(edge, key)

    def add_edges(self, edges: Iterable[DerivedEdge]) -> None:
        """:meth:`add_edge` for each of ``edges`` (a builder's stream): the indexes and memos made from the
        edges are let go of once before and once after, not once per edge. Between two nodes already in
        the graph, the edge goes straight into networkx's adjacency dicts (what ``MultiDiGraph.add_edge``
        does, without its per-edge node checks and cache clearing; a build adds millions of edges)."""
        self._forget_indexes()
        g = self.graph
        plain = _PLAIN_ADJACENCY and type(g) is nx.MultiDiGraph
        adjacency: Any = g  # the adjacency dicts are networkx's own attributes, not in its typed interface
        succ: dict[str, dict[str, dict[str, dict[str, Any]]]] = adjacency._succ if plain else {}
        pred: dict[str, dict[str, dict[str, dict[str, Any]]]] = adjacency._pred if plain else {}
        bases, data_holder, keys_holders = _BASES, _EdgeDataHolder, _KEYS_HOLDERS
        for edge in edges:
            source, target = edge.source, edge.target
            out = succ.get(source)
            if out is None or target not in succ:
                self._add_new_node(edge)
                continue
            base = bases.get((edge.kind, edge.technique))
            if base is None:
                base = _base(edge)
            keys = out.get(target)
            if keys is None:  # the dicts as key-sharing ones (see _EdgeDataHolder), without a call each
                holder = data_holder()
                holder.edge = edge  # type: ignore[attr-defined]
                first = (keys_holders.get(base) or _keys_holder(base))()
                setattr(first, base, holder.__dict__)
                out[target] = pred[target][source] = first.__dict__
            else:
                _add_key(keys, base, edge)
        nx._clear_cache(g)
        self._forget_indexes()

    def add_fans(self, fans: Iterable[tuple[DerivedEdge, Sequence[str]]]) -> None:
        """:meth:`add_edges` of each ``(edge, targets)``: copies of ``edge`` to each of ``targets`` in turn,
        the same graph (an admin's control edges: one source, proof and conditions, hundreds of targets,
        about two thirds of the edges of an 800-principal account). What ``add_edges`` looks up for each edge
        is looked up once per fan here, and the copies are made by ``_retargeted``."""
        g = self.graph
        if not (_PLAIN_ADJACENCY and type(g) is nx.MultiDiGraph):
            self.add_edges(copy for edge, targets in fans for copy in _retargeted(edge, targets))
            return
        self._forget_indexes()
        adjacency: Any = g  # as in add_edges
        succ: dict[str, dict[str, dict[str, dict[str, Any]]]] = adjacency._succ
        pred: dict[str, dict[str, dict[str, dict[str, Any]]]] = adjacency._pred
        data_holder = _EdgeDataHolder
        for edge, targets in fans:
            source, base = edge.source, _base(edge)
            keys_holder = _keys_holder(base)
            for copy in _retargeted(edge, targets):
                target = copy.target
                out = succ.get(source)
                if out is None or target not in pred:
                    self._add_new_node(copy)
                    continue
                keys = out.get(target)
                if keys is None:  # as in add_edges
                    holder = data_holder()
                    holder.edge = copy  # type: ignore[attr-defined]
                    first = keys_holder()
                    setattr(first, base, holder.__dict__)
                    out[target] = pred[target][source] = first.__dict__
                else:
                    _add_key(keys, base, copy)
        nx._clear_cache(g)
        self._forget_indexes()

    def _add_new_node(self, edge: DerivedEdge) -> None:
        """:meth:`add_edge` through networkx, for an edge with an endpoint not in the graph yet."""
        key = self._free_key(edge)
        if key is not None:
            self.graph.add_edge(edge.source, edge.target, key=key, edge=edge)

    def _free_key(self, edge: DerivedEdge) -> str | None:
        """The key ``edge`` goes under; None when an equal edge is there already."""
        base = _base(edge)
        existing = self.graph.get_edge_data(edge.source, edge.target)
        key = base
        if existing:
            n = 0
            while key in existing:
                if existing[key]["edge"].conditions == edge.conditions:
                    return None
                n += 1
                key = f"{base}:{n}"
        return key

    def put(self, edge: DerivedEdge, key: str) -> None:
        """Store ``edge`` under ``key`` as it is (a store's fetched subgraph keeps the keys it loaded)."""
        self._forget_indexes()
        self.graph.add_edge(edge.source, edge.target, key=key, edge=edge)

    def _forget_indexes(self) -> None:
        self._by_kind = self._in_by_kind = self._numbers = self._names = self._order = None
        self._in_sources.clear()
        self._out_targets.clear()
        self.hop_cache.clear()
        self.access_hops.clear()
        self.query_memo.clear()

    def index_edges(self) -> None:
        """Build the by-kind edge indexes now (a server does it at start-up, before the first query)."""
        out: dict[str, dict[EdgeKind, list[DerivedEdge]]] = {}
        into: dict[str, dict[EdgeKind, list[DerivedEdge]]] = {}
        for source, target, data in self.graph.edges(data=True):
            e: DerivedEdge = data["edge"]
            out.setdefault(source, {}).setdefault(e.kind, []).append(e)
            into.setdefault(target, {}).setdefault(e.kind, []).append(e)
        resource = {n: d.get("kind") == NodeKind.RESOURCE for n, d in self.graph.nodes(data=True)}
        order = [n for n, r in resource.items() if not r] + [n for n, r in resource.items() if r]
        self._numbers = {n: i for i, n in enumerate(order)}
        self._names = order
        self._by_kind, self._in_by_kind = out, into

    def touch_edges(self) -> int:
        """Read every edge and its conditions once; returns how many edges. For a process forked from the
        one that loaded the graph: CPython writes the reference count of each object a query reads, so the
        kernel copies every page of the shared graph that the process's queries touch first (at 5,000
        principals, over 200 pages a query in a fresh worker's first thousand queries, about 6 µs each on
        the development VM). Reading them all before serving moves that cost out of the first answers; the
        process owns those pages from the start instead of over its first minutes."""
        if self._in_by_kind is None:
            self.index_edges()
        assert self._in_by_kind is not None
        count = 0
        for kinds in self._in_by_kind.values():
            for edges in kinds.values():
                for e in edges:
                    e.conditions  # noqa: B018 (read for its reference count)
                count += len(edges)
        return count

    def numbers(self) -> dict[str, int]:
        """Every node's position in the bitsets of :class:`InSources`."""
        if self._numbers is None:
            self.index_edges()
        assert self._numbers is not None
        return self._numbers

    def names(self) -> list[str]:
        """The nodes by their number (the inverse of :meth:`numbers`)."""
        if self._names is None:
            self.index_edges()
        assert self._names is not None
        return self._names

    def out_edges_of(self, node: str, kinds: frozenset[EdgeKind]) -> list[DerivedEdge]:
        """The out-edges of ``node`` of the given kinds, in the graph's order, from an index by kind (the
        traversals would otherwise walk every access edge of every principal they pass)."""
        if self._by_kind is None:
            self.index_edges()
        assert self._by_kind is not None
        return _of_kinds(self._by_kind.get(node), kinds)

    def in_edges_of(self, node: str, kinds: frozenset[EdgeKind]) -> list[DerivedEdge]:
        """The in-edges of ``node`` of the given kinds, in the graph's order (a role is also a resource:
        thousands of access edges point at it, which a backward walk over act-as edges must not scan)."""
        if self._in_by_kind is None:
            self.index_edges()
        assert self._in_by_kind is not None
        if self.on_demand is not None and EdgeKind.ACCESS in kinds:
            made = self.on_demand.onto(node, self._place)
            if made is not None:  # the stored access edges onto it (outsiders') are among those made
                others = _of_kinds(self._in_by_kind.get(node), kinds - _ACCESS_ONLY) if len(kinds) > 1 else []
                return [*others, *made] if others else made
        return _of_kinds(self._in_by_kind.get(node), kinds)

    def _place(self, node: str) -> int:
        """The node's place in the graph's node order (the order of the by-kind indexes' edge lists)."""
        if self._order is None:
            self._order = {n: i for i, n in enumerate(self.graph)}
        return self._order[node]

    def node_edge_counts(self, node: str) -> tuple[dict[str, int], dict[str, int]]:
        """How many edges of each kind come into ``node`` and go out of it, from the by-kind indexes (a
        resource has thousands of access edges: counting them one by one took longer than a query)."""
        if self._by_kind is None or self._in_by_kind is None:
            self.index_edges()
        assert self._by_kind is not None and self._in_by_kind is not None
        into, out = self._in_by_kind.get(node) or {}, self._by_kind.get(node) or {}
        counts = {k.value: len(v) for k, v in into.items()}
        if self.on_demand is not None and (made := self.on_demand.onto(node, self._place)) is not None:
            counts.pop(EdgeKind.ACCESS.value, None)
            if made:
                counts[EdgeKind.ACCESS.value] = len(made)
        return counts, {k.value: len(v) for k, v in out.items()}

    def in_sources_of(self, node: str, kinds: frozenset[EdgeKind]) -> InSources:
        """``in_edges_of`` grouped by source, with the sources as bitsets: a backward walk looks at each
        neighbour once, not at each technique by which it gets there, and skips a node whose neighbours it
        has all seen without looking at them one by one."""
        key = (kinds, node)
        found = self._in_sources.get(key)
        if found is None:
            numbers = self.numbers()
            groups: dict[str, list[DerivedEdge]] = {}
            for e in self.in_edges_of(node, kinds):
                groups.setdefault(e.source, []).append(e)
            every = firm = mixed = 0
            for source, edges in groups.items():
                first = next((e for e in edges if e.conditions is not False), None)
                if first is None:
                    continue
                bit = 1 << numbers[source]
                every |= bit
                if any(e.conditions is True for e in edges):
                    firm |= bit
                if first.conditions is not True:
                    mixed |= bit
            found = self._in_sources[key] = InSources(
                list(groups.items()), every, firm, mixed, {source: i for i, source in enumerate(groups)}
            )
        return found

    def out_targets_of(self, node: str, kinds: frozenset[EdgeKind]) -> OutTargets:
        """``out_edges_of`` that may hold, grouped by target, with the targets as a bitset: a forward walk
        skips the targets it has seen with one bitset operation instead of looking at each edge."""
        key = (kinds, node)
        found = self._out_targets.get(key)
        if found is None:
            numbers = self.numbers()
            groups: dict[str, list[DerivedEdge]] = {}
            for e in self.out_edges_of(node, kinds):
                if e.conditions is not False:
                    groups.setdefault(e.target, []).append(e)
            every = firm = 0
            for target, edges in groups.items():
                every |= 1 << numbers[target]
                if any(e.conditions is True for e in edges):
                    firm |= 1 << numbers[target]
            found = self._out_targets[key] = OutTargets(
                list(groups.items()), every, {target: i for i, target in enumerate(groups)}, firm
            )
        return found

    def require_every_edge(self, what: str) -> None:
        """For what writes the whole graph out: a graph with resource access on demand does not hold the
        principals' access edges, and a copy without them must not pass for the estate's."""
        if self.on_demand is not None:
            raise InputError(
                "the graph was built with resource access on demand: it does not hold the principals' access "
                "edges; build it with --resource-access eager (IAMGRAPH_RESOURCE_ACCESS=eager) for this",
                element=what,
            )

    def out_adjacency(self, node: str) -> Mapping[str, Iterable[dict[str, Any]]]:
        """The node's successors with the data of the edges to each (``{"edge": DerivedEdge}``), in the
        networkx graph's order (a view: nothing is copied)."""
        return _EdgeData(self.graph.succ[node])

    def in_adjacency(self, node: str) -> Mapping[str, Iterable[dict[str, Any]]]:
        """The node's predecessors with the data of the edges from each, as the networkx graph's
        ``pred[node]`` has them, access edges made on demand included."""
        stored: Mapping[str, Mapping[str, dict[str, Any]]] = self.graph.pred[node]
        made = None if self.on_demand is None else self.on_demand.by_source(node, self._place)
        if made is None:
            return _EdgeData(stored)
        out: dict[str, list[dict[str, Any]]] = {}
        for other, keyed in stored.items():
            kept = [d for d in keyed.values() if d["edge"].kind is not EdgeKind.ACCESS]
            if kept:
                out[other] = kept
        for other, edges in made.items():
            out.setdefault(other, []).extend({"edge": e} for e in edges)
        return out

    def node(self, node_id: str) -> dict[str, Any]:
        return dict(self.graph.nodes[node_id])

    def edges(self, kind: EdgeKind | None = None) -> Iterator[DerivedEdge]:
        for _, _, data in self.graph.edges(data=True):
            e: DerivedEdge = data["edge"]
            if kind is None or e.kind is kind:
                yield e

    def self_loops(self, kind: EdgeKind) -> list[DerivedEdge]:
        """The edges of ``kind`` from a node to itself, in the order :meth:`edges` gives them (a walk over
        the nodes, not over every edge)."""
        out: list[DerivedEdge] = []
        for node, around in self.graph.adj.items():
            loops = around.get(node)
            if loops:
                out.extend(e for data in loops.values() if (e := data["edge"]).kind is kind)
        return out

    def edges_between(self, source: str, target: str) -> list[DerivedEdge]:
        data = self.graph.get_edge_data(source, target) or {}
        stored: list[DerivedEdge] = [d["edge"] for d in data.values()]
        if self.on_demand is None or source not in self.graph:
            return stored
        if self.graph.nodes[source].get("kind") not in PRINCIPAL_KINDS:
            return stored  # an outsider's access edges are built, not made on demand: nothing to make
        if (made := self.on_demand.between(source, target, self._place)) is not None:
            return [*(e for e in stored if e.kind is not EdgeKind.ACCESS), *made] if stored else made
        return stored

    def node_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(str(k) for _, k in self.graph.nodes(data="kind")).items()))

    def edge_counts(self) -> dict[str, int]:
        c: Counter[str] = Counter()
        for e in self.edges():
            c[e.kind.value] += 1
        return dict(sorted(c.items()))

    def technique_counts(self) -> dict[str, int]:
        c: Counter[str] = Counter(e.technique for e in self.edges())
        return dict(sorted(c.items()))

    def admins(self) -> list[str]:
        return sorted(n for n, admin in self.graph.nodes(data="admin") if admin)


class _EdgeData(Mapping[str, Iterable[dict[str, Any]]]):
    """A networkx adjacency (neighbour -> key -> edge data) seen as neighbour -> the edges' data."""

    __slots__ = ("_adjacency",)

    def __init__(self, adjacency: Mapping[str, Mapping[str, dict[str, Any]]]) -> None:
        self._adjacency = adjacency

    def __getitem__(self, other: str) -> Iterable[dict[str, Any]]:
        return self._adjacency[other].values()

    def __iter__(self) -> Iterator[str]:
        return iter(self._adjacency)

    def __len__(self) -> int:
        return len(self._adjacency)


def _of_kinds(by_kind: dict[EdgeKind, list[DerivedEdge]] | None, kinds: frozenset[EdgeKind]) -> list[DerivedEdge]:
    if not by_kind:
        return []
    found = [edges for kind, edges in by_kind.items() if kind in kinds]
    return found[0] if len(found) == 1 else [e for edges in found for e in edges]
