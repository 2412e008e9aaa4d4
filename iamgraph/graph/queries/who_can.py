"""who-can RESOURCE [--action A | --access-level L]: every principal that can, with its shortest path."""

from __future__ import annotations

from typing import Any

from iamgraph.catalog import get_catalog
from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.queries.base import ACT_AS, Hop, HopMemo, QueryView, path_conditional, reverse_reach, usable
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.reach import bit_test, in_order, known_reverse_sets
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.policy.logic import Expr

__all__ = ["check_grant", "holders", "who_can"]

_ACCESS = frozenset({EdgeKind.ACCESS})
_Path = tuple[bool, list[Hop]]  # conditional, hops as JSON
LEVELS = ("List", "Read", "Write", "Permissions management", "Tagging")


def _grants(edge: DerivedEdge, action: str | None, level: str | None) -> bool:
    """Does the edge grant ``action`` (the catalogue's name: edges list the catalogue's names) or some
    action of the access level?"""
    if action is not None:
        return action in edge.actions
    if level is not None:
        return bool(edge.access.get(level))
    return True


def check_grant(action: str | None, access_level: str | None) -> None:
    """An action the catalog knows, an access level of the five: else a one-line input error."""
    if action is not None and not get_catalog().is_known_action(action):
        raise InputError(f'unknown action "{action}"', element="--action")
    if access_level is not None and access_level not in LEVELS:
        raise InputError(f'"{access_level}" is not one of {", ".join(LEVELS)}', element="--access-level")


def holders(
    g: AccessGraph, target: str, action: str | None, access_level: str | None, whatif: WhatIf
) -> dict[str, list[tuple[DerivedEdge, Expr]]]:
    """The nodes with an access edge onto ``target`` that grants it, each with that edge as its last hop:
    one that holds outright when there is one, else the first that may hold."""
    starts: dict[str, list[tuple[DerivedEdge, Expr]]] = {}
    if action is not None:  # any letter case: the catalogue's name
        known = get_catalog().action(action)
        action = known.name if known is not None else action
    for e in g.in_edges_of(target, _ACCESS):
        if not _grants(e, action, access_level):
            continue
        cond = usable(e, whatif)
        if cond is False:
            continue
        current = starts.get(e.source)
        if current is None or (current[0][1] is not True and cond is True):
            starts[e.source] = [(e, cond)]
    return starts


class _Levels:
    """The backward walk of ``reverse_reach`` without a what-if, one level at a time and only as deep as
    asked: the same nodes at the same depths with the same parents (a level's nodes in the order that walk
    queues them), so the same paths. ``firm``: over the edges that hold outright only. A node's path is
    made only when it is asked for (``hops``)."""

    __slots__ = (
        "_firm",
        "_g",
        "_names",
        "_numbers",
        "_paths",
        "deadline",
        "levels",
        "max_depth",
        "parent",
        "passed_over",
        "seen",
        "starts",
    )

    def __init__(
        self,
        g: AccessGraph,
        starts: dict[str, list[tuple[DerivedEdge, Expr]]],
        *,
        firm: bool,
        max_depth: int,
        deadline: Deadline | None,
    ) -> None:
        self._g, self._firm, self.starts = g, firm, starts
        self._names, self._numbers = g.names(), g.numbers()
        self.max_depth, self.deadline = max_depth, deadline
        numbers = self._numbers
        self.parent: dict[str, str | None] = dict.fromkeys(starts)
        self.levels: list[list[str]] = [list(starts)] if starts else []
        self.seen = 0
        for node in starts:
            self.seen |= 1 << numbers[node]
        self.passed_over = False  # a conditional edge onto a node not seen yet was left (``firm`` only)
        self._paths: dict[str, _Path] = {}  # node -> (conditional, hops as JSON)

    def level(self, k: int) -> list[str] | None:
        """The nodes at ``k`` act-as hops from a start (path length ``k + 1``); None past the last."""
        while len(self.levels) <= k:
            if not self._advance():
                return None
        return self.levels[k]

    def walk_all(self) -> None:
        while self._advance():
            pass

    def _advance(self) -> bool:
        if not self.levels or not self.levels[-1] or len(self.levels) >= self.max_depth:
            return False
        g, names, numbers, firm, parent = self._g, self._names, self._numbers, self._firm, self.parent
        # the complement of what is seen, kept as such through the level: one mask operation per node, and
        # a second for a node with new sources, instead of ``~seen`` made anew for every node
        unseen = ~self.seen
        below: list[str] = []
        for node in self.levels[-1]:
            check(self.deadline)
            sources = g.in_sources_of(node, ACT_AS)
            if firm:
                if not self.passed_over and sources.mixed & unseen:
                    self.passed_over = True
                new = sources.firm & unseen
            else:
                new = sources.every & unseen
            if not new:
                continue
            unseen ^= new  # ``new`` lies within ``unseen``
            found = in_order(new, sources.groups, sources.rank, numbers, names)
            for source in found:
                parent[source] = node
            below.extend(found)
        self.seen = ~unseen
        self.levels.append(below)
        return bool(below)

    def answer(self, node: str, hop_json: HopMemo) -> _Path:
        """``node``'s path as the answer shows it: whether it holds only under conditions, and its hops (the
        first edge that holds, outright when ``firm``, onto its parent, then its parent's path). Made once
        per node: the nodes of a level share their parents' paths."""
        found = self._paths.get(node)
        if found is not None:
            return found
        step = self.parent[node]
        if step is None:  # a start: its last hop
            hops = self.starts[node]
            made: _Path = (path_conditional(hops), [hop_json(e, c) for e, c in hops])
        else:
            sources = self._g.in_sources_of(step, ACT_AS)
            for e in sources.groups[sources.rank[node]][1]:  # the first that holds (outright when firm)
                if e.conditions is True or (not self._firm and e.conditions is not False):
                    break
            above_conditional, above = self.answer(step, hop_json)
            made = (above_conditional or e.conditions is not True, [hop_json(e, e.conditions), *above])
        self._paths[node] = made
        return made


def _page(
    g: AccessGraph,
    starts: dict[str, list[tuple[DerivedEdge, Expr]]],
    max_depth: int,
    limit: int | None,
    offset: int,
    deadline: Deadline | None,
) -> tuple[list[tuple[str, _Levels]], int]:
    """who-can without a what-if: the page of (principal, the walk that found it) in (path length, ARN)
    order, and the total.

    The same answer as the two walks of ``reverse_reach`` sorted whole: a principal's path is its shortest
    over the edges that hold outright when it has one (the firm walk), else its shortest over every edge.
    When the graph keeps its reverse sets for this depth, the firm and total sets are unions of them and
    the walks go only as deep as the page; else both walks are made whole."""
    check(deadline)
    numbers = g.numbers()
    firm_starts = {node: hops for node, hops in starts.items() if hops[0][1] is True}
    firm = _Levels(g, firm_starts, firm=True, max_depth=max_depth, deadline=deadline)
    every = _Levels(g, starts, firm=False, max_depth=max_depth, deadline=deadline)
    known = known_reverse_sets(g, max(max_depth - 1, 0), exact=True)
    if known is not None:
        firm_set = known.union((numbers[n] for n in firm_starts), firm=True)
        all_set = firm_set | known.union((numbers[n] for n in starts), firm=False)
        walk_every = bool(all_set & ~firm_set)
    else:
        firm.walk_all()
        firm_set = firm.seen
        walk_every = firm.passed_over or len(firm_starts) < len(starts)
        if walk_every:
            every.walk_all()
        all_set = firm_set | every.seen if walk_every else firm_set
    total = all_set.bit_count()
    end = total if limit is None else min(total, offset + limit)
    page: list[tuple[str, _Levels]] = []
    counted, k = 0, 0
    in_firm = bit_test(firm_set)
    while counted < end:
        at_firm, at_every = firm.level(k), every.level(k) if walk_every else None
        if not at_firm and not at_every:
            break
        here: list[tuple[str, _Levels]] = [(node, firm) for node in at_firm or ()]
        for node in at_every or ():
            if not in_firm(numbers[node]):
                here.append((node, every))
        if counted + len(here) > offset:
            here.sort(key=lambda pair: pair[0])
            for node, walk in here[max(offset - counted, 0) : end - counted]:
                page.append((node, walk))
        counted += len(here)
        k += 1
    return page, total


def who_can(
    analysis: QueryView,
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
    """Principals (and outsiders) that can perform the action on the resource, directly or via a chain:
    nearest first (then by ARN), ``limit`` of them (all when None) from ``offset``; ``total`` counts all."""
    if (limit is not None and limit < 0) or offset < 0:
        raise ValueError("limit and offset must be >= 0")
    whatif = whatif or WhatIf()
    hop_json = HopMemo(analysis.graph)
    target = analysis.resolve(resource, what="resource")
    check_grant(action, access_level)
    g = analysis.graph
    starts = holders(g, target, action, access_level, whatif)
    if whatif.active:
        # an unconditional way in wins over a shorter conditional one: walk the unconditional part first
        firm = {node: hops for node, hops in starts.items() if hops[0][1] is True}
        reach, passed_over = reverse_reach(g, firm.items(), whatif, max_depth, deadline, unconditional=True)
        if passed_over or len(firm) < len(starts):  # else the walk over every usable edge finds nothing more
            for node, hops in reverse_reach(g, starts.items(), whatif, max_depth, deadline)[0].items():
                reach.setdefault(node, hops)
        ordered = sorted(reach.items(), key=lambda kv: (len(kv[1]), kv[0]))
        page = ordered[offset:] if limit is None else ordered[offset : offset + limit]
        total = len(ordered)
        rows = [(node, path_conditional(hops), [hop_json(e, c) for e, c in hops]) for node, hops in page]
    else:
        walked, total = _page(g, starts, max_depth, limit, offset, deadline)
        rows = [(node, *walk.answer(node, hop_json)) for node, walk in walked]
    kinds = g.graph.nodes(data="kind", default="")  # read once per node (thousands in a whole answer)
    principals = [
        {"arn": node, "kind": str(kinds[node]), "conditional": conditional, "path": path}
        for node, conditional, path in rows
    ]
    return {
        "resource": target,
        "action": action,
        "access_level": access_level,
        "principals": principals,
        "total": total,
        "offset": offset,
        "limit": limit,
        "truncated": offset + len(principals) < total,
    }
