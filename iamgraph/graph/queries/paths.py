"""path SRC DST (shortest, or all simple paths within bounds) and can PRINCIPAL RESOURCE --action A."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.graph.queries.base import (
    ACT_AS,
    Analysis,
    HopMemo,
    Parents,
    QueryView,
    act_as_steps,
    path_conditional,
    path_to,
    usable,
)
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.reach import in_order, known_reverse_sets
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.policy.logic import Expr

__all__ = ["can", "check_path_bounds", "find_paths"]

Path = list[tuple[DerivedEdge, Expr]]
# the kind of a path's last hop onto its target besides act-as edges: access onto a resource, membership of
# a group (its members hold its permissions; no act-as edge leaves a group, so it is only ever the last hop)
_ACCESS, _MEMBER = frozenset({EdgeKind.ACCESS}), frozenset({EdgeKind.MEMBER})


def _last(g: AccessGraph, dst: str) -> frozenset[EdgeKind]:
    return _MEMBER if g.graph.nodes[dst].get("kind") == NodeKind.GROUP else _ACCESS


# node numbers, and the nodes that can still get to the target: as bytes (little-endian: a bit is read in
# constant time, where a shift of a big int copies it) and as a bitset
Useful = tuple[dict[str, int], bytes, int] | None


def _useful(g: AccessGraph, whatif: WhatIf, hops: int, *, firm: bool, targets: Iterable[str]) -> Useful:
    """The nodes that can act as one of ``targets`` within ``hops`` act-as hops (over the edges that hold
    outright when ``firm``), from the reverse sets the graph keeps; None when it keeps none that deep or a
    what-if changes the edges. A walk towards the targets need not go through any other node: that only
    leaves out branches without an answer, so the walk finds what it would find without it."""
    if whatif.active:
        return None
    known = known_reverse_sets(g, max(hops, 0))
    if known is None:
        return None
    numbers = g.numbers()
    mask = known.union((numbers[t] for t in targets), firm=firm)
    return numbers, mask.to_bytes((mask.bit_length() + 7) // 8, "little"), mask


def _within(useful: Useful, node: str) -> bool:
    if useful is None:
        return True
    n = useful[0][node]
    found = useful[1]
    return (n >> 3) < len(found) and bool(found[n >> 3] >> (n & 7) & 1)


def _path_targets(g: AccessGraph, dst: str) -> list[str]:
    """Where a path to ``dst`` may end its act-as part: ``dst`` itself, or a node with access onto it (or a
    member of it)."""
    return [dst, *(e.source for e in g.in_edges_of(dst, _last(g, dst)) if e.conditions is not False)]


def _out(
    analysis: QueryView, node: str, whatif: WhatIf, target: str, last_kinds: frozenset[EdgeKind], useful: Useful = None
) -> Iterator[tuple[DerivedEdge, Expr]]:
    g = analysis.graph
    last = [e for e in g.edges_between(node, target) if e.kind in last_kinds]  # the final hop only
    for e in [*g.out_edges_of(node, ACT_AS), *last]:
        if not _within(useful, e.target):
            continue
        cond = usable(e, whatif)
        if cond is not False:
            yield e, cond


def shortest(
    analysis: QueryView, src: str, dst: str, whatif: WhatIf, max_depth: int, deadline: Deadline | None = None
) -> Path | None:
    """Breadth-first from ``src``, over act-as edges and the access (or membership) edges onto ``dst``; the
    path by which ``dst`` is first reached (it is then fixed: the walk stops there)."""
    if src == dst:
        return []
    g = analysis.graph
    useful = _useful(g, whatif, max_depth, firm=False, targets=_path_targets(g, dst))
    if not _within(useful, src):
        return None
    last_kinds = _last(g, dst)
    prev: dict[str, tuple[str, DerivedEdge, Expr] | None] = {src: None}
    queue: deque[tuple[str, int]] = deque([(src, 0)])
    if not whatif.active:
        return _shortest_bits(g, prev, queue, dst, max_depth, -1 if useful is None else useful[2], deadline, last_kinds)
    while queue:
        check(deadline)
        node, depth = queue.popleft()
        if depth >= max_depth:
            continue
        for e, c in _out(analysis, node, whatif, dst, last_kinds, useful):
            if e.target in prev:
                continue
            prev[e.target] = (node, e, c)
            if e.target == dst:
                return _back(prev, dst)
            queue.append((e.target, depth + 1))
    return None


def _back(prev: dict[str, tuple[str, DerivedEdge, Expr] | None], node: str) -> Path:
    path: Path = []
    while (step := prev[node]) is not None:
        before, hop, cond = step
        path.append((hop, cond))
        node = before
    return path[::-1]


def _shortest_bits(
    g: AccessGraph,
    prev: dict[str, tuple[str, DerivedEdge, Expr] | None],
    queue: deque[tuple[str, int]],
    dst: str,
    max_depth: int,
    useful: int,
    deadline: Deadline | None,
    last_kinds: frozenset[EdgeKind],
) -> Path | None:
    """``shortest`` under the edges' own conditions: the same walk in the same order, which passes over the
    targets of a node it has seen (or that cannot get to ``dst``) with one bitset operation."""
    numbers, names = g.numbers(), g.names()
    seen = 0
    for node in prev:
        seen |= 1 << numbers[node]
    while queue:
        check(deadline)
        node, depth = queue.popleft()
        if depth >= max_depth:
            continue
        out = g.out_targets_of(node, ACT_AS)
        new = out.every & useful & ~seen
        if new:
            seen |= new
            for target in in_order(new, out.groups, out.rank, numbers, names):
                e = out.groups[out.rank[target]][1][0]
                prev[target] = (node, e, e.conditions)
                if target == dst:
                    return _back(prev, dst)
                queue.append((target, depth + 1))
        for e in g.edges_between(node, dst):  # the access (or membership) hop onto the target comes last
            if e.kind in last_kinds and e.conditions is not False:
                prev[dst] = (node, e, e.conditions)
                return _back(prev, dst)
    return None


def _all(
    analysis: QueryView,
    src: str,
    dst: str,
    whatif: WhatIf,
    max_depth: int,
    limit: int,
    deadline: Deadline | None = None,
) -> list[Path]:
    found: list[Path] = []
    useful = _useful(analysis.graph, whatif, max_depth, firm=False, targets=_path_targets(analysis.graph, dst))
    if not _within(useful, src):
        return found
    last_kinds = _last(analysis.graph, dst)
    stack: list[tuple[str, Path, frozenset[str]]] = [(src, [], frozenset({src}))]
    while stack and len(found) < limit:
        check(deadline)
        node, path, seen = stack.pop()
        if node == dst and path:
            found.append(path)
            continue
        if len(path) >= max_depth:
            continue
        for e, c in _out(analysis, node, whatif, dst, last_kinds, useful):
            if e.target not in seen:
                stack.append((e.target, [*path, (e, c)], seen | {e.target}))
    return sorted(found, key=len)


def check_path_bounds(max_depth: int, limit: int) -> None:
    """The path query's bounds: both at least 1 (a path search is never unbounded)."""
    if max_depth < 1 or limit < 1:
        raise InputError("must be at least 1", element="--max-depth/--limit")


def find_paths(
    analysis: QueryView,
    src: str,
    dst: str,
    *,
    all_paths: bool = False,
    max_depth: int = 6,
    limit: int = 20,
    whatif: WhatIf | None = None,
    deadline: Deadline | None = None,
) -> dict[str, Any]:
    """Shortest path, or every simple path up to ``max_depth`` hops and ``limit`` paths (never unbounded)."""
    check_path_bounds(max_depth, limit)
    whatif = whatif or WhatIf()
    s, d = analysis.resolve(src, what="source"), analysis.resolve(dst, what="target")
    if all_paths:
        paths = _all(analysis, s, d, whatif, max_depth, limit, deadline)
    else:
        one = shortest(analysis, s, d, whatif, max_depth, deadline)
        paths = [one] if one else []
    hop = HopMemo(analysis.graph)
    return {
        "source": s,
        "target": d,
        "bounds": {"max_depth": max_depth, "limit": limit if all_paths else 1},
        "truncated": all_paths and len(paths) >= limit,
        "paths": [{"conditional": path_conditional(p), "hops": [hop(e, c) for e, c in p]} for p in paths],
    }


def can(
    analysis: Analysis,
    principal: str,
    resource: str,
    action: str,
    *,
    whatif: WhatIf | None = None,
    max_depth: int = 8,
    deadline: Deadline | None = None,
) -> dict[str, Any]:
    """yes / no / conditional, with the path and the full decision of the last hop."""
    whatif = whatif or WhatIf()
    p, r = analysis.resolve(principal, what="principal"), analysis.resolve(resource, what="resource")
    entry = analysis.estate.principals.get(p)
    direct = analysis.estate.evaluate(entry, action, r) if entry is not None else None
    check(deadline)
    if direct is not None and direct.possible:
        answer: Expr = whatif.resolve(direct.residual)
        if answer is not False:
            return _answer(p, r, action, answer, [], direct.to_json())
    # through other principals: the nearest one that holds the access (who-can's path for ``p``)
    from iamgraph.graph.queries.who_can import check_grant, holders

    check_grant(action, None)
    found = _nearest_holder(analysis, p, holders(analysis.graph, r, action, None, whatif), whatif, max_depth, deadline)
    if found is not None:
        hop = HopMemo(analysis.graph)
        holder = analysis.estate.principals.get(found[-1][0].source)
        return {
            "principal": p,
            "resource": r,
            "action": action,
            "answer": "conditional" if path_conditional(found) else "yes",
            "path": [hop(e, c) for e, c in found],
            "decision": analysis.estate.evaluate(holder, action, r).to_json() if holder else None,
        }
    return {
        "principal": p,
        "resource": r,
        "action": action,
        "answer": "no",
        "path": [],
        "decision": direct.to_json() if direct else None,
    }


def _nearest_holder(
    analysis: QueryView,
    src: str,
    starts: dict[str, list[tuple[DerivedEdge, Expr]]],
    whatif: WhatIf,
    max_depth: int,
    deadline: Deadline | None,
) -> Path | None:
    """The path who-can gives ``src``, found forwards and only as far as needed: breadth-first over the
    act-as edges that hold outright to the nearest holder whose access holds outright; failing that, over
    every usable edge to the nearest holder. At most ``max_depth`` hops, the access hop included."""
    g = analysis.graph
    for unconditional in (True, False):
        ends = [n for n, last in starts.items() if not unconditional or last[0][1] is True]
        useful = _useful(g, whatif, max_depth - 1, firm=unconditional, targets=ends)
        if not _within(useful, src):
            continue
        parent: Parents = {src: None}
        level, depth, seen = [src], 0, 1 << g.numbers()[src]
        while level:
            check(deadline)
            for node in level:
                last = starts.get(node)
                if last is not None and (not unconditional or last[0][1] is True):
                    return [*path_to(parent, node), last[0]]
            depth += 1
            if depth >= max_depth:
                break
            if whatif.active:
                below: list[str] = []
                for node in level:
                    for e, cond in act_as_steps(g, node, parent, whatif, unconditional):
                        if not _within(useful, e.target):
                            continue
                        parent[e.target] = (node, e, cond)
                        below.append(e.target)
                level = below
            else:
                mask = -1 if useful is None else useful[2]
                level, seen = _next_level_bits(g, level, parent, seen, unconditional, mask)
    return None


def _next_level_bits(
    g: AccessGraph, level: list[str], parent: Parents, seen: int, firm: bool, useful: int
) -> tuple[list[str], int]:
    """The next level of ``_nearest_holder``'s walk under the edges' own conditions, in the same order with
    the same parents as ``act_as_steps`` gives: a node's targets already seen (or that cannot get to a
    holder) are passed over with one bitset operation. Over the outright edges (``firm``), a target's
    first such edge may come after a conditional one, so that walk reads the node's edges when it has a
    new target. ``seen``: the nodes of ``parent`` as a bitset; returned with the new ones added."""
    numbers, names = g.numbers(), g.names()
    below: list[str] = []
    for node in level:
        out = g.out_targets_of(node, ACT_AS)
        new = (out.firm if firm else out.every) & useful & ~seen
        if not new:
            continue
        seen |= new
        if firm:
            for e in g.out_edges_of(node, ACT_AS):
                if e.conditions is True and e.target not in parent and new >> numbers[e.target] & 1:
                    parent[e.target] = (node, e, True)
                    below.append(e.target)
        else:
            for target in in_order(new, out.groups, out.rank, numbers, names):
                e = out.groups[out.rank[target]][1][0]
                parent[target] = (node, e, e.conditions)
                below.append(target)
    return below, seen


def _answer(p: str, r: str, action: str, cond: Expr, path: list[Any], decision: dict[str, Any]) -> dict[str, Any]:
    return {
        "principal": p,
        "resource": r,
        "action": action,
        "answer": "yes" if cond is True else "conditional",
        "path": path,
        "decision": decision,
    }
