"""privesc: principals that are not admin but can reach admin, with a path each; the admins listed.

A principal escalates when, acting as itself or as anyone it can become (assume / escalate edges), it
reaches an admin, or holds a ``grant`` edge onto a principal it can act as (it can give that principal
any permission, then use it).

Each principal's answer is its shortest such path over the edges that hold outright when there is one,
else over every usable edge, both within ``max_depth`` act-as hops. For the whole estate at once, each of
the two walks first computes what every node reaches within ``max_depth`` (bitsets, one round per hop):
that says which principals escalate at all, and which grants land on a principal the grantee can act as.
Only the principals that escalate are searched, breadth-first, and only down to the depth of their answer.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.model import PRINCIPAL_KINDS, NodeKind
from iamgraph.graph.queries.base import (
    ACT_AS,
    HopMemo,
    Parents,
    QueryView,
    act_as_steps,
    admin_states,
    path_conditional,
    path_to,
    usable,
)
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.reach import bits, bounded_reach, factor
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.policy.logic import Expr, expr_to_json

__all__ = ["admins_json", "privesc"]

Path = list[tuple[DerivedEdge, Expr]]
# principals of the estate, and outsiders (their escalations are the worst findings)
ESCALATING_KINDS = PRINCIPAL_KINDS | {
    NodeKind.EXTERNAL_ACCOUNT,
    NodeKind.EXTERNAL_PRINCIPAL,
    NodeKind.PROVIDER,
    NodeKind.ANYONE,
}


_GRANT = frozenset({EdgeKind.GRANT})


def _forward(
    analysis: QueryView,
    src: str,
    whatif: WhatIf,
    max_depth: int,
    deadline: Deadline | None = None,
    *,
    unconditional: bool = False,
) -> dict[str, Path]:
    """Shortest paths from ``src`` over act-as edges (breadth-first); ``unconditional``: only over edges
    whose conditions hold outright under the what-if."""
    g = analysis.graph
    best: dict[str, Path] = {src: []}
    queue: deque[str] = deque([src])
    while queue:
        check(deadline)
        node = queue.popleft()
        if len(best[node]) >= max_depth:
            continue
        for e, cond in act_as_steps(g, node, best, whatif, unconditional):
            best[e.target] = [*best[node], (e, cond)]
            queue.append(e.target)
    return best


class _Pass:
    """One walk of the act-as edges for every principal: over the edges whose conditions hold outright
    (``unconditional``), or over every usable one.

    ``reach[i]`` is the set (a bitset over ``index``) of the nodes that node ``i`` reaches within
    ``max_depth`` hops: it decides at once whether a principal escalates at all, and whether a grant's
    target is one it can act as, so that the breadth-first search for the path stops at the first depth
    that has an answer instead of walking all it reaches.
    """

    __slots__ = ("adj", "admin_mask", "admins", "grant_mask", "grant_targets", "grants", "reach")

    def __init__(self, s: _Search, unconditional: bool, deadline: Deadline | None) -> None:
        index = s.index

        def ok(cond: Expr) -> bool:
            return cond is True if unconditional else cond is not False

        # out-edges in the graph's order, as the search walks them: node -> [(target, edge, conditions)]
        self.adj: Adjacency = {}
        self.grants: dict[str, list[tuple[DerivedEdge, Expr]]] = {}
        self.grant_targets: dict[int, int] = {}  # grant source -> bitset of its usable grants' targets
        self.grant_mask = 0  # bitset of the nodes with a usable grant
        # the admins this walk ends at: those admin outright, or also those admin under conditions
        self.admins = frozenset(n for n, state in s.admins.items() if ok(state))
        self.admin_mask = 0
        for node in self.admins:
            i = index.get(node)
            if i is not None:
                self.admin_mask |= 1 << i
        succ: dict[int, list[set[int]]] = {}  # node -> the targets of its usable edges, by technique
        for node, edges in s.act_as.items():
            check(deadline)
            kept = [(e.target, e, c) for e, c in edges if ok(c)]
            if kept:
                self.adj[node] = kept
                by_technique: dict[str, set[int]] = {}
                for t, e, _ in kept:
                    by_technique.setdefault(e.technique, set()).add(index[t])
                succ[index[node]] = list(by_technique.values())
        for node, edges in s.grant_edges.items():
            usable_grants = [(e, c) for e, c in edges if ok(c)]
            if usable_grants:
                self.grants[node] = usable_grants
                i = index[node]
                self.grant_mask |= 1 << i
                targets = 0
                for e, _ in usable_grants:
                    targets |= 1 << index[e.target]
                self.grant_targets[i] = targets
        rest, blocks = factor(succ)
        found = bounded_reach(rest, s.max_depth, deadline, blocks)
        self.reach = [found.get(i, 1 << i) for i in range(len(s.nodes))]

    def escalates(self, i: int) -> bool:
        """Whether node ``i`` reaches an admin other than itself, or a usable grant onto a node it reaches."""
        reach = self.reach[i]
        if self.admin_mask & reach & ~(1 << i):
            return True
        return any(self.grant_targets[x] & reach for x in bits(self.grant_mask & reach))


Adjacency = dict[str, list[tuple[str, DerivedEdge, Expr]]]


def next_level(level: list[str], adj: Adjacency, parent: Parents, deadline: Deadline | None) -> list[str]:
    """One step of a breadth-first walk: the nodes first reached from ``level`` over ``adj``, in order, each
    entered in ``parent`` with the node and edge it was reached by."""
    below: list[str] = []
    for node in level:
        check(deadline)
        for target, e, c in adj.get(node, ()):
            if target not in parent:
                parent[target] = (node, e, c)
                below.append(target)
    return below


def shared_search(analysis: QueryView, whatif: WhatIf, max_depth: int, deadline: Deadline | None) -> _Search:
    """The search of privesc and exposure: kept on the graph for the next query when no what-if changes
    the edges (it depends only on the graph and the depth), else made for this query."""
    if whatif.active:
        return _Search(analysis, whatif, max_depth, deadline)
    memo = analysis.graph.query_memo
    key = f"act-as-search:{max_depth}"
    found = memo.get(key)
    if not isinstance(found, _Search):
        found = memo[key] = _Search(analysis, whatif, max_depth, deadline)
    return found


class _Search:
    """The escalation of one principal after another, sharing what the passes compute for all of them.
    Holds nothing of one query but the what-if it was made under: queries may share it (``shared_search``);
    each call takes the deadline of its own query."""

    def __init__(self, analysis: QueryView, whatif: WhatIf, max_depth: int, deadline: Deadline | None) -> None:
        g = analysis.graph
        self.max_depth = max(max_depth, 0)
        self.admins = admin_states(g, whatif)
        # the usable act-as and grant edges of every node, with their conditions under the what-if
        self.act_as: dict[str, list[tuple[DerivedEdge, Expr]]] = {}
        self.grant_edges: dict[str, list[tuple[DerivedEdge, Expr]]] = {}
        self.index: dict[str, int] = {}
        self.nodes: list[str] = []
        for node in g.graph.nodes:
            check(deadline)
            for kinds, into in ((ACT_AS, self.act_as), (_GRANT, self.grant_edges)):
                found: list[tuple[DerivedEdge, Expr]] = []
                for e in g.out_edges_of(node, kinds):
                    cond = usable(e, whatif)
                    if cond is not False:
                        found.append((e, cond))
                if found:
                    into[node] = found
                    for n in (node, *(e.target for e, _ in found)):
                        if n not in self.index:
                            self.index[n] = len(self.nodes)
                            self.nodes.append(n)
        self._passes: dict[bool, _Pass] = {}

    def walk(self, unconditional: bool, deadline: Deadline | None) -> _Pass:
        """The pass over the edges that hold outright (``unconditional``) or over every usable one; made
        on first use (two threads may both make it: the same result, one is kept)."""
        found = self._passes.get(unconditional)
        if found is None:
            found = self._passes[unconditional] = _Pass(self, unconditional, deadline)
        return found

    def escalation(self, src: str, deadline: Deadline | None) -> tuple[Path, bool] | None:
        """The shortest unconditional way to admin (or to a grant onto a principal it can act as) when there
        is one, else the shortest conditional one. Walking the unconditional edges first finds an
        unconditional path even where a shorter conditional edge reaches the same principal first.

        Also says whether the path ends with a grant onto a principal that ``src`` becomes only under a
        condition, or at a principal that is admin only under conditions: the escalation is then conditional
        even when every hop of the path holds outright."""
        i = self.index.get(src)
        if i is None:
            return None  # no usable act-as or grant edge: it can act only as itself
        for unconditional in (True, False):
            p = self.walk(unconditional, deadline)
            path = self._shortest(p, src, p.reach[i], deadline) if p.escalates(i) else None
            if path is not None:
                last = path[-1][0]
                if last.kind is EdgeKind.GRANT:
                    firm = self.walk(True, deadline).reach[i]
                    return path, not firm >> self.index[last.target] & 1
                return path, self.admins[last.target] is not True
        return None

    def _shortest(self, p: _Pass, src: str, reach: int, deadline: Deadline | None) -> Path | None:
        """Breadth-first from ``src`` (the same tree as :func:`_forward`) to the first depth with an answer.

        A path of length ``d`` ends at an admin at depth ``d`` or with a grant from depth ``d - 1``;
        among equally short ones the first in breadth-first order wins, grants from the shallower node
        first. ``reach`` (all ``src`` reaches within ``max_depth``) says which grants land on a node it
        can act as, so no grant waits for its target to be found.
        """
        index, admins, adj, grants = self.index, p.admins, p.adj, p.grants
        parent: Parents = {src: None}

        level = [src]
        depth = 0
        while True:
            check(deadline)
            if depth:
                for node in level:
                    if node in admins:
                        return path_to(parent, node)
            for node in level:
                for e, c in grants.get(node, ()):
                    if reach >> index[e.target] & 1:
                        return [*path_to(parent, node), (e, c)]
            if depth >= self.max_depth:
                return None
            below = next_level(level, adj, parent, deadline)
            if not below:
                return None
            level = below
            depth += 1


def privesc(
    analysis: QueryView, *, whatif: WhatIf | None = None, max_depth: int = 8, deadline: Deadline | None = None
) -> dict[str, Any]:
    """Admins under the what-if (``admin_conditions``: those admin only under conditions, with them), and the
    escalation of every other principal that has one. A principal admin only under conditions (MFA present,
    say) is listed among the escalations too when it reaches admin outright: it does not need them."""
    whatif = whatif or WhatIf()
    hop_json = HopMemo(analysis.graph)
    g = analysis.graph.graph
    search = shared_search(analysis, whatif, max_depth, deadline)
    states = search.admins
    escalations = []
    for node in sorted(g.nodes):
        if g.nodes[node].get("kind") not in ESCALATING_KINDS or states.get(str(node)) is True:
            continue
        check(deadline)
        found = search.escalation(str(node), deadline)
        if found is not None:
            entry = escalation_json(str(node), *found, hop_json)
            # one admin under conditions is listed when it reaches admin outright: a way around them
            if str(node) not in states or not entry["conditional"]:
                escalations.append(entry)
    return {**admins_json(states), "escalations": escalations}


def admins_json(states: dict[str, Expr]) -> dict[str, Any]:
    """The admins of the report (``states``: the nodes that are admin under the what-if, as
    :func:`admin_states` gives them), and the conditions of those admin only under conditions."""
    held = {n: state for n, state in sorted(states.items()) if state is not False}
    return {
        "admins": list(held),
        "admin_conditions": {n: [expr_to_json(state)] for n, state in held.items() if state is not True},
    }


def escalation_json(principal: str, path: Path, onto_conditional: bool, hop_json: HopMemo) -> dict[str, Any]:
    """One entry of the report: conditional when a hop is, or when the path ends with a grant onto a
    principal the source becomes only under a condition."""
    return {
        "principal": principal,
        "conditional": path_conditional(path) or onto_conditional,
        "path": [hop_json(e, c) for e, c in path],
    }
