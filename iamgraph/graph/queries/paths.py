"""path SRC DST (shortest, or all simple paths within bounds) and can PRINCIPAL RESOURCE --action A."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.errors import InputError
from iamgraph.graph.queries.base import (
    ACT_AS,
    Analysis,
    HopMemo,
    Parents,
    QueryView,
    act_as_steps,
    hop_json,
    path_conditional,
    path_to,
    usable,
)
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.policy.logic import Expr

__all__ = ["can", "check_path_bounds", "find_paths"]

Path = list[tuple[DerivedEdge, Expr]]


def _out(analysis: QueryView, node: str, whatif: WhatIf, target: str) -> Iterator[tuple[DerivedEdge, Expr]]:
    g = analysis.graph
    last = [e for e in g.edges_between(node, target) if e.kind is EdgeKind.ACCESS]  # the final hop only
    for e in [*g.out_edges_of(node, ACT_AS), *last]:
        cond = usable(e, whatif)
        if cond is not False:
            yield e, cond


def shortest(
    analysis: QueryView, src: str, dst: str, whatif: WhatIf, max_depth: int, deadline: Deadline | None = None
) -> Path | None:
    prev: dict[str, tuple[str, DerivedEdge, Expr] | None] = {src: None}
    queue: deque[tuple[str, int]] = deque([(src, 0)])
    while queue:
        check(deadline)
        node, depth = queue.popleft()
        if node == dst:
            path: Path = []
            while prev[node] is not None:
                before, e, c = prev[node]  # type: ignore[misc]
                path.append((e, c))
                node = before
            return path[::-1]
        if depth >= max_depth:
            continue
        for e, c in _out(analysis, node, whatif, dst):
            if e.target not in prev:
                prev[e.target] = (node, e, c)
                queue.append((e.target, depth + 1))
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
    stack: list[tuple[str, Path, frozenset[str]]] = [(src, [], frozenset({src}))]
    while stack and len(found) < limit:
        check(deadline)
        node, path, seen = stack.pop()
        if node == dst and path:
            found.append(path)
            continue
        if len(path) >= max_depth:
            continue
        for e, c in _out(analysis, node, whatif, dst):
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
    return {
        "source": s,
        "target": d,
        "bounds": {"max_depth": max_depth, "limit": limit if all_paths else 1},
        "truncated": all_paths and len(paths) >= limit,
        "paths": [{"conditional": path_conditional(p), "hops": [hop_json(e, c) for e, c in p]} for p in paths],
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
        parent: Parents = {src: None}
        level, depth = [src], 0
        while level:
            check(deadline)
            for node in level:
                last = starts.get(node)
                if last is not None and (not unconditional or last[0][1] is True):
                    return [*path_to(parent, node), last[0]]
            depth += 1
            if depth >= max_depth:
                break
            below: list[str] = []
            for node in level:
                for e, cond in act_as_steps(g, node, parent, whatif, unconditional):
                    parent[e.target] = (node, e, cond)
                    below.append(e.target)
            level = below
    return None


def _answer(p: str, r: str, action: str, cond: Expr, path: list[Any], decision: dict[str, Any]) -> dict[str, Any]:
    return {
        "principal": p,
        "resource": r,
        "action": action,
        "answer": "yes" if cond is True else "conditional",
        "path": path,
        "decision": decision,
    }
