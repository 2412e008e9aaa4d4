"""exposure: what is reachable from outside, and the trusts that make it too easy.

Outside = accounts outside the snapshot (flagged when also outside the organization), their named
principals, federated identity providers and anyone. For each, what it can become and reach, with
paths. Findings: trusts to outside accounts without ``sts:ExternalId`` (or with one any caller meets: a
``*`` pattern, ``IfExists``, a negated operator), OIDC trusts whose ``sub`` is
missing or a wildcard pattern (or without ``aud``), and resources that anyone can reach.
"""

from __future__ import annotations

import threading
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.ondemand import ON_DEMAND_NOTE
from iamgraph.graph.queries.base import HopMemo, Parents, QueryView, path_conditional, path_to, usable
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.privesc import _Pass, next_level, shared_search
from iamgraph.graph.queries.reach import bits
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.model.policy import ConditionClause
from iamgraph.policy.logic import Expr

__all__ = ["OUTSIDE_KINDS", "exposure"]

OUTSIDE_KINDS = frozenset({NodeKind.EXTERNAL_ACCOUNT, NodeKind.EXTERNAL_PRINCIPAL, NodeKind.PROVIDER, NodeKind.ANYONE})


def _findings(analysis: QueryView, edge: DerivedEdge, kind: str) -> list[dict[str, Any]]:
    if edge.kind is not EdgeKind.ASSUME:
        return []
    clauses = analysis.trust_conditions(edge)
    found: list[dict[str, Any]] = []
    if kind in (NodeKind.EXTERNAL_ACCOUNT, NodeKind.EXTERNAL_PRINCIPAL):
        ids = [c for c in clauses if c.key_lc == "sts:externalid"]
        if not ids:
            found.append({"finding": "trust-without-external-id", "role": edge.target, "trusted": edge.source})
        elif all(_weak_external_id(c) for c in ids):
            found.append(
                {
                    "finding": "trust-with-weak-external-id",
                    "role": edge.target,
                    "trusted": edge.source,
                    "conditions": [c.to_json() for c in ids],
                }
            )
    if (kind == NodeKind.PROVIDER and "oidc-provider/" in edge.source) or (
        kind == NodeKind.PROVIDER and not edge.source.startswith("arn:")
    ):
        subs = [c for c in clauses if c.key_lc.endswith(":sub")]
        if not subs:
            found.append({"finding": "oidc-trust-without-sub", "role": edge.target, "provider": edge.source})
        elif any("*" in v or "?" in v for c in subs for v in c.values if "Like" in c.base):
            found.append(
                {
                    "finding": "oidc-trust-broad-sub",
                    "role": edge.target,
                    "provider": edge.source,
                    "sub": sorted({v for c in subs for v in c.values}),
                }
            )
        if not any(c.key_lc.endswith(":aud") for c in clauses):
            found.append({"finding": "oidc-trust-without-aud", "role": edge.target, "provider": edge.source})
    if kind == NodeKind.ANYONE:
        found.append({"finding": "trust-to-anyone", "role": edge.target})
    return found


def _weak_external_id(clause: ConditionClause) -> bool:
    """An ExternalId condition any caller meets: absent allowed (``IfExists``, ``Null``), negated, or a
    ``Like`` pattern of wildcards only."""
    base = clause.base.lower()
    if clause.if_exists or base == "null" or "not" in base:
        return True
    return "like" in base and any(v and set(v) <= {"*", "?"} for v in clause.values)


_ACCESS = frozenset({EdgeKind.ACCESS})
# a principal reached (no access hop), or a resource with the node holding it and the access hop
_Entry = tuple[str, str | None, tuple[DerivedEdge, Expr] | None]
_NO_ACCOUNT = "(none)"


def _account_of(g: Any, node: str) -> str:
    account = g.nodes[node].get("account") if node in g else None
    if account:
        return str(account)
    parts = node.split(":", 5)
    return parts[4] if len(parts) > 4 and parts[4] else _NO_ACCOUNT


class _Reach:
    """What every outsider reaches, as sets: the nodes it can act as within ``max_depth`` (the bitsets of
    privesc's walk, shared by all outsiders) and the nodes those hold an access edge to (one bitset per
    holder, made once; kept on the graph when no what-if changes the edges). Counting what an outsider
    reaches, by account, is then a few operations on integers, whatever the answer's size."""

    def __init__(self, analysis: QueryView, whatif: WhatIf, max_depth: int, deadline: Deadline | None) -> None:
        self.graph = analysis.graph
        self.whatif = whatif
        self.deadline = deadline
        self.search = shared_search(analysis, whatif, max_depth, deadline)
        self.acting = self.search.walk(False, deadline)
        memo: dict[str, Any] = {} if whatif.active else self.graph.query_memo.setdefault("exposure-access", {})
        # access targets numbered as met, and the bitset of each holder's targets over that numbering
        self.held: dict[str, int] = memo.setdefault("held", {})
        self.targets: dict[str, int] = memo.setdefault("targets", {})
        self.target_names: list[str] = memo.setdefault("names", [])
        # the numbering is shared by the queries of a server's worker threads: one numbers at a time
        self.lock: threading.Lock = memo.setdefault("lock", threading.Lock())
        self._unions: dict[int, int] = {}
        self._dual: int | None = None  # the act-as nodes that are also access targets (bitset over the index)

    def acts_as(self, src: str) -> int:
        """Bitset (over ``search.index``) of the nodes ``src`` can act as within the depth, itself excluded."""
        i = self.search.index.get(src)
        return 0 if i is None else self.acting.reach[i] & ~(1 << i)

    def holds(self, node: str) -> int:
        """Bitset (over ``targets``) of the nodes ``node`` has a usable access edge to."""
        found = self.held.get(node)
        if found is None:
            with self.lock:
                found = self._number(node)
        return found

    def _number(self, node: str) -> int:
        found = self.held.get(node)
        if found is None:
            numbers, names = self.targets, self.target_names
            edges = self.graph.out_edges_of(node, _ACCESS)
            if self.whatif.active:
                edges = [e for e in edges if usable(e, self.whatif) is not False]
            else:
                edges = [e for e in edges if e.conditions is not False]
            for e in edges:
                if e.target not in numbers:
                    numbers[e.target] = len(names)
                    names.append(e.target)
            marks = bytearray((len(names) >> 3) + 1)
            for n in map(numbers.__getitem__, [e.target for e in edges]):
                marks[n >> 3] |= 1 << (n & 7)
            found = self.held[node] = int.from_bytes(marks, "little")
        return found

    def held_by(self, acting: int) -> int:
        """Bitset (over ``targets``) of what the nodes of ``acting`` hold (outsiders that become the same
        principals share it)."""
        found = self._unions.get(acting)
        if found is None:
            nodes = self.search.nodes
            found = 0
            for i in bits(acting):
                check(self.deadline)
                found |= self.holds(nodes[i])
            self._unions[acting] = found
        return found

    def less_principals(self, src: str, acting: int, held: int) -> int:
        """``held`` without ``src`` and the principals of ``acting``: a node both acted as and acted on
        counts once, as a principal. Call once every holder is numbered."""
        if self._dual is None:
            index, dual = self.search.index, 0
            for name in self.target_names:
                i = index.get(name)
                if i is not None:
                    dual |= 1 << i
            self._dual = dual
        nodes, targets = self.search.nodes, self.targets
        for i in bits(acting & self._dual):
            held &= ~(1 << targets[nodes[i]])
        n = targets.get(src)
        return held & ~(1 << n) if n is not None else held


def _account_masks(g: Any, names: list[str]) -> dict[str, int]:
    """account -> the bitset of the positions in ``names`` of its nodes."""
    marks: dict[str, bytearray] = {}
    size = (len(names) >> 3) + 1
    for i, name in enumerate(names):
        account = _account_of(g, name)
        found = marks.get(account)
        if found is None:
            found = marks[account] = bytearray(size)
        found[i >> 3] |= 1 << (i & 7)
    return {account: int.from_bytes(m, "little") for account, m in marks.items()}


def _by_account(masks: dict[str, int], bits: int, into: dict[str, dict[str, int]], field: str) -> None:
    for account, mask in masks.items():
        n = (bits & mask).bit_count()
        if n:
            into.setdefault(account, {"principals": 0, "resources": 0})[field] = n


def _walk(
    analysis: QueryView,
    acting: _Pass,
    src: str,
    whatif: WhatIf,
    max_depth: int,
    limit: int | None,
    admins: set[str],
    deadline: Deadline | None,
) -> tuple[list[_Entry], list[str], Parents]:
    """Breadth-first from ``src`` over the usable act-as edges (``acting``: the tree of privesc's forward
    walk): what it reaches, in the order of the answer, and the admins among them. At each depth, first the
    nodes held (access edges) by those of the depth before, in their order, then the principals of the
    depth; every node once, at its shortest. Stops when ``limit`` entries and ``limit`` admins of
    ``admins`` (all when fewer) are found."""
    g = analysis.graph
    parent: Parents = {src: None}
    listed = {src}
    entries: list[_Entry] = []
    found_admins: list[str] = []
    wanted = set(admins)
    level = [src]
    depth = 0
    while level:
        check(deadline)
        for node in level:
            if limit is not None and len(entries) >= limit:
                break
            for e in g.out_edges_of(node, _ACCESS):
                if e.target in listed:
                    continue
                cond = usable(e, whatif)
                if cond is False:
                    continue
                listed.add(e.target)
                entries.append((e.target, node, (e, cond)))
                if limit is not None and len(entries) >= limit:
                    break
        full = limit is not None and len(entries) >= limit
        if depth >= max_depth or (full and (not wanted or (limit is not None and len(found_admins) >= limit))):
            break
        below = next_level(level, acting.adj, parent, deadline)
        for node in below:
            if node in wanted:
                wanted.discard(node)
                if limit is None or len(found_admins) < limit:
                    found_admins.append(node)
            if node not in listed and (limit is None or len(entries) < limit):
                listed.add(node)
                entries.append((node, None, None))
        level = below
        depth += 1
    return entries, found_admins, parent


def _path_json(path: list[tuple[DerivedEdge, Expr]], hop_json: HopMemo) -> dict[str, Any]:
    return {"conditional": path_conditional(path), "path": [hop_json(e, c) for e, c in path]}


def _admin_json(states: dict[str, Expr], admin: str, path: list[tuple[DerivedEdge, Expr]], hop_json: HopMemo) -> Any:
    """An admin an outsider reaches: conditional also when the admin is one only under conditions."""
    found = {"node": admin, **_path_json(path, hop_json)}
    found["conditional"] = found["conditional"] or states[admin] is not True
    return found


def _entry_json(g: Any, entry: _Entry, parent: Parents, hop_json: HopMemo) -> dict[str, Any]:
    target, holder, access = entry
    if holder is None or access is None:
        return {
            "node": target,
            "kind": str(g.nodes[target].get("kind")),
            **_path_json(path_to(parent, target), hop_json),
        }
    e, cond = access
    full = [*path_to(parent, holder), (e, cond)]
    return {"node": target, "kind": "resource", "actions": list(e.actions), **_path_json(full, hop_json)}


def exposure(
    analysis: QueryView,
    *,
    whatif: WhatIf | None = None,
    max_depth: int = 8,
    limit: int | None = None,
    deadline: Deadline | None = None,
) -> dict[str, Any]:
    """Every outsider with what it reaches: counts in all and by account, each admin it reaches with a path,
    and the first ``limit`` reached nodes (all when None) with a path each, nearest first."""
    whatif = whatif or WhatIf()
    if limit is not None and limit < 0:
        raise ValueError("limit must be >= 0")
    hop_json = HopMemo(analysis.graph)
    g = analysis.graph.graph
    outsiders: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    public: list[dict[str, Any]] = []
    found = [n for n in sorted(g.nodes) if g.nodes[n].get("kind") in OUTSIDE_KINDS]
    if not found:
        return _noted(
            analysis, {"outsiders": outsiders, "public_resources": public, "findings": findings, "limit": limit}
        )
    reach = _Reach(analysis, whatif, max_depth, deadline)
    sets: list[tuple[int, int]] = []
    for node in found:  # first what each reaches: all holders are numbered before the masks are made
        check(deadline)
        acting = reach.acts_as(str(node))
        sets.append((acting, reach.held_by(acting) | reach.holds(str(node))))
    acting_masks = _account_masks(g, reach.search.nodes)
    held_masks = _account_masks(g, reach.target_names)
    for node, (acting, held) in zip(found, sets, strict=True):
        check(deadline)
        held = reach.less_principals(str(node), acting, held)
        kind = g.nodes[node].get("kind")
        names = reach.search.nodes
        admins = {names[i] for i in bits(acting & reach.acting.admin_mask)}
        entries, reached_admins, parent = _walk(
            analysis, reach.acting, str(node), whatif, max_depth, limit, admins, deadline
        )
        by_account: dict[str, dict[str, int]] = {}
        _by_account(acting_masks, acting, by_account, "principals")
        _by_account(held_masks, held, by_account, "resources")
        total = acting.bit_count() + held.bit_count()
        if kind == NodeKind.ANYONE:
            for e in analysis.graph.out_edges_of(node, _ACCESS):
                cond = usable(e, whatif)
                if cond is not False:
                    public.append(
                        {
                            "resource": e.target,
                            "actions": list(e.actions),
                            "conditional": cond is not True,
                            "path": [hop_json(e, cond)],
                        }
                    )
        for _, _, data in g.out_edges(node, data=True):
            findings.extend(_findings(analysis, data["edge"], str(kind)))
        info = g.nodes[node]
        outsiders.append(
            {
                "node": node,
                "kind": str(kind),
                "in_organization": info.get("in_organization"),
                "reached": {
                    "principals": acting.bit_count(),
                    "resources": held.bit_count(),
                    "admins": len(admins),
                    "by_account": dict(sorted(by_account.items())),
                },
                "admins": [_admin_json(reach.search.admins, a, path_to(parent, a), hop_json) for a in reached_admins],
                "reaches": [_entry_json(g, entry, parent, hop_json) for entry in entries],
                "truncated": len(entries) < total,
            }
        )
    return _noted(analysis, {"outsiders": outsiders, "public_resources": public, "findings": findings, "limit": limit})


def _noted(analysis: QueryView, answer: dict[str, Any]) -> dict[str, Any]:
    """On a graph with resource access on demand, the answer says what it does not count."""
    if analysis.graph.on_demand is not None:
        answer["resource_access"] = ON_DEMAND_NOTE
    return answer
