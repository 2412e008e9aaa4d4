"""who-can RESOURCE [--action A | --access-level L]: every principal that can, with its shortest path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iamgraph._gc import collector_held
from iamgraph.catalog import get_catalog
from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.graph.queries.base import HopMemo, QueryView, path_conditional, reverse_reach, usable
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.reach import known_reverse_sets
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.policy.logic import Expr

if TYPE_CHECKING:
    from iamgraph.graph.queries.levels import Levels

__all__ = ["WAYS_IN", "check_grant", "holders", "ways_in", "who_can"]

_ACCESS = frozenset({EdgeKind.ACCESS})
_ACT_AS = frozenset({EdgeKind.ASSUME, EdgeKind.ESCALATE})
_MEMBER = frozenset({EdgeKind.MEMBER})
LEVELS = ("List", "Read", "Write", "Permissions management", "Tagging")
# how a query gets onto a target by its node kind: users and roles are acted as (assumed, taken over), a
# group's permissions are held by its members; anything else is accessed
WAYS_IN: dict[str, frozenset[EdgeKind]] = {
    NodeKind.USER: _ACT_AS,
    NodeKind.ROLE: _ACT_AS,
    NodeKind.EXTERNAL_PRINCIPAL: _ACT_AS,
    NodeKind.GROUP: _MEMBER,
}
_NOT_TARGETS = (NodeKind.SERVICE, NodeKind.ANYONE)


def ways_in(g: AccessGraph, target: str, action: str | None, access_level: str | None) -> frozenset[EdgeKind]:
    """The kinds of the edges onto ``target`` that who-can starts from: access edges onto a resource; for a
    user or role (an IAM entity: no access edges), the edges of those who can act as it; for a group, its
    members'. An action or access level on a principal, and a service or "anyone" as the target, are input
    errors (their answer would be an empty list that looks like "nobody")."""
    kind = str(g.graph.nodes[target].get("kind", ""))  # a NodeKind, or its text in a store's fetched view
    if kind in _NOT_TARGETS:
        raise InputError(f"{target} is {kind_label(kind)}: who-can answers for a resource, user, role or group")
    ways = WAYS_IN.get(kind, _ACCESS)
    if ways is not _ACCESS and (action is not None or access_level is not None):
        option = "--action" if action is not None else "--access-level"
        raise InputError(
            f"{target} is {kind_label(kind)}: who-can lists who can act as it (leave out {option}); "
            f"for one principal and action ask `can PRINCIPAL {target} --action A`",
            element=option,
        )
    return ways


def kind_label(kind: object) -> str:
    """``a user``, ``an external principal``, ``anyone`` ... for messages."""
    if kind == NodeKind.ANYONE:
        return 'the node of "anyone"'
    text = str(kind).replace("_", " ")
    return f"{'an' if text.startswith(('a', 'e', 'i', 'o')) else 'a'} {text}"


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
    g: AccessGraph,
    target: str,
    action: str | None,
    access_level: str | None,
    whatif: WhatIf,
    kinds: frozenset[EdgeKind] = _ACCESS,
) -> dict[str, list[tuple[DerivedEdge, Expr]]]:
    """The nodes with an access edge onto ``target`` that grants it (an edge of ``kinds``: see ``ways_in``),
    each with that edge as its last hop: one that holds outright when there is one, else the first that
    may hold."""
    starts: dict[str, list[tuple[DerivedEdge, Expr]]] = {}
    if action is not None:  # any letter case: the catalogue's name
        known = get_catalog().action(action)
        action = known.name if known is not None else action
    for e in g.in_edges_of(target, kinds):
        if e.source == target or not _grants(e, action, access_level):  # a role trusting itself: no way in
            continue
        cond = usable(e, whatif)
        if cond is False:
            continue
        current = starts.get(e.source)
        if current is None or (current[0][1] is not True and cond is True):
            starts[e.source] = [(e, cond)]
    return starts


def _page(
    g: AccessGraph,
    starts: dict[str, list[tuple[DerivedEdge, Expr]]],
    max_depth: int,
    limit: int | None,
    offset: int,
    deadline: Deadline | None,
    excluded: str | None = None,
) -> tuple[list[int], list[bool], Levels, Levels, int]:
    """who-can without a what-if: the page of principals (numbers) in (path length, ARN) order, whether each
    was found by the firm walk (else by the walk over every edge), both walks, and the total.

    The same answer as the two walks of ``reverse_reach`` sorted whole: a principal's path is its shortest
    over the edges that hold outright when it has one (the firm walk), else its shortest over every edge.
    When the graph keeps its reverse sets for this depth, the firm and total sets are unions of them and
    the walks go only as deep as the page; else both walks are made whole."""
    from iamgraph.graph.queries import levels  # numpy: imported by the first who-can, not by every command

    check(deadline)
    numbers = g.numbers()
    table = levels.source_table(g)
    firm_starts = {node: hops for node, hops in starts.items() if hops[0][1] is True}
    out = None if excluded is None else numbers[excluded]  # walked through by neither walk, listed by neither
    firm = levels.Levels(table, firm_starts, numbers, firm=True, max_depth=max_depth, deadline=deadline, excluded=out)
    every = levels.Levels(table, starts, numbers, firm=False, max_depth=max_depth, deadline=deadline, excluded=out)
    known = known_reverse_sets(g, max(max_depth - 1, 0), exact=True)
    if known is not None:
        # the sets hold the target when it is on a way to itself; a node whose way goes through it is a start
        # by a shorter way (its way's first part ends in an edge onto the target), so only its bit goes
        keep = -1 if out is None else ~(1 << out)
        firm_set = known.union((numbers[n] for n in firm_starts), firm=True) & keep
        all_set = firm_set | known.union((numbers[n] for n in starts), firm=False) & keep
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
    listed, from_firm = levels.listing(firm, every if walk_every else None, firm_set, offset, end)
    return listed, from_firm, firm, every, total


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
    ways = ways_in(g, target, action, access_level)
    starts = holders(g, target, action, access_level, whatif, ways)
    excluded = None if ways is _ACCESS else target  # a principal reaches itself only through a cycle
    if whatif.active:
        # an unconditional way in wins over a shorter conditional one: walk the unconditional part first
        firm = {node: hops for node, hops in starts.items() if hops[0][1] is True}
        reach, passed_over = reverse_reach(
            g, firm.items(), whatif, max_depth, deadline, unconditional=True, excluded=excluded
        )
        if passed_over or len(firm) < len(starts):  # else the walk over every usable edge finds nothing more
            every, _ = reverse_reach(g, starts.items(), whatif, max_depth, deadline, excluded=excluded)
            for node, hops in every.items():
                reach.setdefault(node, hops)
        ordered = sorted(reach.items(), key=lambda kv: (len(kv[1]), kv[0]))
        page = ordered[offset:] if limit is None else ordered[offset : offset + limit]
        total = len(ordered)
        rows = [(node, path_conditional(hops), [hop_json(e, c) for e, c in hops]) for node, hops in page]
        kinds = g.graph.nodes(data="kind", default="")  # read once per node (thousands in a whole answer)
        principals = [
            {"arn": node, "kind": str(kinds[node]), "conditional": conditional, "path": path}
            for node, conditional, path in rows
        ]
    else:
        from iamgraph.graph.queries.levels import loose_flags  # numpy, as in _page

        listed, from_firm, firm_walk, every_walk, total = _page(g, starts, max_depth, limit, offset, deadline, excluded)
        names, kind_of = g.names(), firm_walk.table.kinds
        with collector_held():  # tens of thousands of dicts and lists, none of them in a cycle
            # each walk's paths in one pass, nearest first (parents before their children)
            firm_walk.fill([node for node, held in zip(listed, from_firm, strict=True) if held], hop_json)
            every_walk.fill([node for node, held in zip(listed, from_firm, strict=True) if not held], hop_json)
            loose = loose_flags(firm_walk, every_walk, listed, from_firm)
            firm_paths, every_paths = firm_walk.paths, every_walk.paths
            principals = [
                {"arn": arn, "kind": kind, "conditional": conditional, "path": path}
                for arn, kind, conditional, path in zip(
                    map(names.__getitem__, listed),
                    map(kind_of.__getitem__, listed),
                    loose,
                    [(firm_paths if h else every_paths)[n] for n, h in zip(listed, from_firm, strict=True)],
                    strict=True,
                )
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
