"""What every query shares: the analysed estate, node lookup with close matches, hops and traversal."""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from iamgraph.edges.base import TRAVERSABLE, DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.evaluation.decision import MatchedStatement
from iamgraph.graph.build import build_graph
from iamgraph.graph.estate import Estate
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.ondemand import OnDemandAccess
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.model.policy import ConditionClause
from iamgraph.model.snapshot import Snapshot
from iamgraph.policy.logic import Expr, expr_to_json
from iamgraph.policy.stored import expr_from_json

__all__ = [
    "Analysis",
    "Hop",
    "HopMemo",
    "NodeNotFound",
    "QueryView",
    "act_as_steps",
    "admin_state",
    "admin_states",
    "hop_json",
    "path_to",
    "resolve_ref",
    "reverse_reach",
    "usable",
]

# Who acts as whom: membership is informational (a user's own edges already include its groups').
ACT_AS = frozenset(TRAVERSABLE - {EdgeKind.MEMBER})


class NodeNotFound(InputError):
    """No principal or resource with that ARN or name; the message lists close matches (``candidates``)."""

    def __init__(self, message: str, *, element: str = "", candidates: Iterable[str] = ()) -> None:
        self.candidates = tuple(candidates)
        super().__init__(message, element=element)


class QueryView(Protocol):
    """What who-can, path, privesc and exposure read: a graph, node lookup and the trust behind an edge.

    ``Analysis`` is the full view; a graph store hands the same queries a fetched subgraph instead.
    """

    @property
    def graph(self) -> AccessGraph: ...

    def resolve(self, ref: str, *, what: str = "principal or resource") -> str: ...

    def trust_conditions(self, edge: DerivedEdge) -> list[ConditionClause]: ...


@dataclass(slots=True)
class Analysis:
    """A snapshot with its evaluation view and its built graph: the input of every query."""

    snapshot: Snapshot
    estate: Estate
    graph: AccessGraph

    @classmethod
    def of(cls, snapshot: Snapshot, *, resource_access: str = "auto") -> Analysis:
        """Build the graph (``resource_access``: see ``build_graph``)."""
        g = build_graph(snapshot, resource_access=resource_access)
        estate = Estate(snapshot)
        if isinstance(g.on_demand, OnDemandAccess):
            g.on_demand.bind(estate)  # the analysis's own estate, without what the build memoised
        return cls(snapshot=snapshot, estate=estate, graph=g)

    def resolve(self, ref: str, *, what: str = "principal or resource") -> str:
        """An ARN, or a unique name (user/role/group/resource name, account id/name) -> node id."""
        g = self.graph.graph
        return resolve_ref(
            ref,
            what,
            exists=lambda n: n in g,
            named=lambda name: [str(n) for n, data in g.nodes(data=True) if data.get("name") == name],
            suffixed=lambda ends: [str(n) for n in g.nodes if str(n).endswith(ends)],
            pool=lambda: [str(n) for n in g.nodes] + [str(d["name"]) for _, d in g.nodes(data=True) if d.get("name")],
        )

    def trust_conditions(self, edge: DerivedEdge) -> list[ConditionClause]:
        """The condition clauses of the trust-policy statements that decided an assume edge."""
        res = self.estate.resources.get(edge.target)
        if res is None or res.policy is None:
            return []
        out: list[ConditionClause] = []
        for m in edge.proof:
            if m.ref.layer.value == "trust" and m.ref.index < len(res.policy.statements):
                out.extend(res.policy.statements[m.ref.index].conditions)
        return out


def resolve_ref(
    ref: str,
    what: str,
    *,
    exists: Callable[[str], bool],
    named: Callable[[str], list[str]],
    suffixed: Callable[[tuple[str, str]], list[str]],
    pool: Callable[[], list[str]],
) -> str:
    """Node lookup shared by every store: exact id, account id, unique name, unique last name part."""
    if exists(ref):
        return ref
    if ref.isdigit() and exists(f"arn:aws:iam::{ref}:root"):
        return f"arn:aws:iam::{ref}:root"
    found = named(ref)
    if not found:  # a resource or entity by its last name part: "my-function", "bucket", "alice"
        found = suffixed((f"/{ref}", f":{ref}"))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        first = sorted(found)[:5]
        raise NodeNotFound(f'"{ref}" is ambiguous: {", ".join(first)}', element=what, candidates=first)
    close = difflib.get_close_matches(ref, pool(), n=3, cutoff=0.6)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise NodeNotFound(f'no such {what} "{ref}"{hint}', element=what, candidates=close)


Hop = dict[str, Any]


def hop_json(edge: DerivedEdge, conditions: Expr, parts: dict[Any, tuple[object, Any]] | None = None) -> Hop:
    """An edge as a hop of a path, under ``conditions``. ``parts`` keeps the JSON of action lists, condition
    expressions and proofs by object identity: edges share them (one grant's answer lands on many
    principals; an access edge lists up to hundreds of actions), and a condition's JSON sorts its parts.
    Only the edge's own conditions are kept there: those a what-if made live for one query."""
    own = parts if conditions is edge.conditions else None
    return {
        "source": edge.source,
        "target": edge.target,
        "kind": edge.kind._value_,
        "technique": edge.technique,
        "actions": _part(parts, edge.actions, SharedList),
        "conditions": [] if conditions is True else [_part(own, conditions, lambda x: _expr_json(x, own))],
        "proof": _part(parts, edge.proof, lambda proof: SharedList(_matched_json(m, parts) for m in proof)),
        **({"via": list(edge.via)} if edge.via else {}),
    }


def _matched_json(m: MatchedStatement, parts: dict[Any, tuple[object, Any]] | None) -> dict[str, Any]:
    """A proof entry: kept by value (a few hundred statements recur in the proofs of millions of edges)."""
    if parts is None:
        return m.to_json()
    key = (id(m.ref), m.conditional, m.forms, m.level)
    hit = parts.get(key)
    if hit is None:
        hit = parts[key] = (m.ref, m.to_json())  # the statement's reference is kept alive with its id
    found: dict[str, Any] = hit[1]
    return found


def _expr_json(x: Expr, parts: dict[Any, tuple[object, Any]] | None) -> Any:
    """A condition's JSON, kept by value: edges carry equal conditions as distinct objects (each evaluation
    makes its own), and the JSON sorts the parts of every And/Or by their text."""
    if parts is None:
        return expr_to_json(x)
    key = ("expr", x)
    hit = parts.get(key)
    if hit is None:
        hit = parts[key] = (x, expr_to_json(x))
    return hit[1]


def _part(parts: dict[Any, tuple[object, Any]] | None, obj: Any, make: Callable[[Any], Any]) -> Any:
    if parts is None:
        return make(obj)
    hit = parts.get(id(obj))
    if hit is None:
        hit = parts[id(obj)] = (obj, make(obj))  # the object is kept alive with its id
    return hit[1]


class SharedList(list[Any]):
    """An action list or proof that many hops share (edges share them): a serialiser may keep its encoded
    form in ``encoded``, as for ``SharedHop``. An access edge lists up to hundreds of actions."""

    __slots__ = ("encoded",)
    encoded: Any


class SharedHop(dict[str, Any]):
    """A hop kept on the graph for every later query (see ``HopMemo``): the same dict lands in thousands of
    answers, so a serialiser may keep its encoded form in ``encoded`` (the API keeps its JSON bytes)."""

    __slots__ = ("encoded",)
    encoded: Any


class HopMemo:
    """``hop_json`` once per (edge, conditions) within one query: paths to many targets share their first
    hops, and a whole-estate report (exposure, privesc) would otherwise serialise the same proof thousands
    of times. A hop under the edge's own conditions (no what-if changed them) is also kept on the graph,
    for every later query: for good, except access hops, of which the graph keeps the most recent
    (``AccessGraph.access_hops``). Identical hops are the same dict in the answer; treat answers as
    read-only."""

    __slots__ = ("_access", "_access_parts", "_memo", "_parts", "_shared")

    def __init__(self, graph: AccessGraph | None = None) -> None:
        # keyed by object identity; the value keeps both objects alive so an id is never reused meanwhile
        self._memo: dict[tuple[int, int], tuple[DerivedEdge, Expr, Hop]] = {}
        self._shared = graph.hop_cache if graph is not None else None
        self._access = graph.access_hops if graph is not None else None
        self._parts = graph.json_parts if graph is not None else {}
        self._access_parts = graph.access_parts if graph is not None else self._parts

    def __call__(self, edge: DerivedEdge, conditions: Expr) -> Hop:
        access = edge.kind is EdgeKind.ACCESS
        parts = self._access_parts if access else self._parts
        shared = self._access if access else self._shared
        if shared is not None and conditions is edge.conditions:
            found = shared.get(id(edge))
            if found is None:
                made = hop_json(edge, conditions, parts)
                # an access hop stays a plain dict: kept for a while only, and most of its bytes are its
                # shared parts', so keeping its own encoded form would mostly copy theirs
                found = shared[id(edge)] = (edge, made if access else SharedHop(made))
            hop: Hop = found[1]
            return hop
        key = (id(edge), id(conditions))
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = (edge, conditions, hop_json(edge, conditions, parts))
        return hit[2]


def admin_states(g: AccessGraph, whatif: WhatIf) -> dict[str, Expr]:
    """The nodes that are admin under the what-if: True, or the conditions that stay open. A principal that
    is admin only under conditions (MFA present, say) is none where the what-if denies them."""
    out: dict[str, Expr] = {}
    nodes = g.graph.nodes
    for node, admin in nodes(data="admin"):
        if admin:
            state = admin_state(nodes[node], whatif)
            if state is not False:
                out[str(node)] = state
    return out


def admin_state(data: Mapping[str, Any], whatif: WhatIf) -> Expr:
    """Whether the node with these attributes is admin under the what-if (see :func:`admin_states`)."""
    if not data.get("admin"):
        return False
    stored = data.get("admin_expr")
    return True if stored is None else whatif.resolve(expr_from_json(stored))


def usable(edge: DerivedEdge, whatif: WhatIf) -> Expr:
    """The edge's conditions under the what-if (False: the edge does not hold)."""
    return whatif.resolve(edge.conditions)


def act_as_steps(
    g: AccessGraph, node: str, seen: Container[str], whatif: WhatIf, unconditional: bool
) -> Iterator[tuple[DerivedEdge, Expr]]:
    """The act-as edges out of ``node`` onto nodes not ``seen`` (checked as each is reached: a caller that
    adds targets meanwhile gets one edge per target) that hold, outright when ``unconditional``."""
    for e in g.out_edges_of(node, ACT_AS):
        if e.target in seen:
            continue
        cond = usable(e, whatif)
        if cond is False or (unconditional and cond is not True):
            continue
        yield e, cond


def reverse_reach(
    g: AccessGraph,
    starts: Iterable[tuple[str, list[tuple[DerivedEdge, Expr]]]],
    whatif: WhatIf,
    max_depth: int,
    deadline: Deadline | None = None,
    *,
    unconditional: bool = False,
    excluded: str | None = None,
) -> tuple[dict[str, list[tuple[DerivedEdge, Expr]]], bool]:
    """Breadth-first over act-as edges backwards: node -> its shortest path (hops) to a start's target.

    ``starts`` gives, for each node that directly holds the access, its last hop(s). ``unconditional``:
    only over edges whose conditions hold outright under the what-if. Also says whether the walk passed
    over an edge only because it is conditional (when not, walking every usable edge finds the same).
    ``excluded``: a node neither walked through nor listed (a principal target, which its own cycles reach).
    """
    best: dict[str, list[tuple[DerivedEdge, Expr]]] = {}
    if excluded is not None:
        best[excluded] = []  # seen: never reached, never expanded; gone before returning
    order: list[str] = []
    for node, hops in starts:
        if node not in best:
            best[node] = hops
            order.append(node)
    queue = deque(order)
    passed_over = False
    for node, path in _expanded(queue, best, max_depth, deadline):
        for source, edges in g.in_sources_of(node, ACT_AS).groups:
            if source in best:
                continue
            hop, skipped = _first_holding(edges, whatif.resolve, unconditional)
            passed_over = passed_over or skipped
            if hop is not None:
                best[source] = [hop, *path]
                queue.append(source)
    if excluded is not None:
        del best[excluded]
    return best, passed_over


def _expanded(
    queue: deque[str], best: dict[str, list[tuple[DerivedEdge, Expr]]], max_depth: int, deadline: Deadline | None
) -> Iterator[tuple[str, list[tuple[DerivedEdge, Expr]]]]:
    """The queue's nodes in turn (the walk appends to it meanwhile) with their paths, those at
    ``max_depth`` left out: they are reached, not walked from."""
    while queue:
        check(deadline)
        node = queue.popleft()
        path = best[node]
        if len(path) < max_depth:
            yield node, path


def _first_holding(
    edges: list[DerivedEdge], resolve: Callable[[Expr], Expr], unconditional: bool
) -> tuple[tuple[DerivedEdge, Expr] | None, bool]:
    """The first edge that holds (outright when ``unconditional``), in the graph's order, with its
    conditions; and whether a conditional edge was passed over on the way."""
    skipped = False
    for e in edges:
        cond = resolve(e.conditions)
        if cond is False:
            continue
        if unconditional and cond is not True:
            skipped = True
            continue
        return (e, cond), skipped
    return None, skipped


Parents = dict[str, tuple[str, DerivedEdge, Expr] | None]


def path_to(parent: Parents, node: str) -> list[tuple[DerivedEdge, Expr]]:
    """The hops from the root of a breadth-first tree (``parent``: node -> (previous node, edge, its
    conditions), None at the root) down to ``node``."""
    hops: list[tuple[DerivedEdge, Expr]] = []
    step = parent[node]
    while step is not None:
        prev, e, c = step
        hops.append((e, c))
        step = parent[prev]
    hops.reverse()
    return hops


def path_conditional(hops: list[tuple[DerivedEdge, Expr]]) -> bool:
    """Whether a path holds only under conditions: some hop's conditions are not outright true (a hop whose
    conditions are False is never on a path)."""
    return any(c is not True for _, c in hops)
