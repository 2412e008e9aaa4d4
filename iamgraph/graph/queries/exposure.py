"""exposure: what is reachable from outside, and the trusts that make it too easy.

Outside = accounts outside the snapshot (flagged when also outside the organization), their named
principals, federated identity providers and anyone. For each, what it can become and reach, with
paths. Findings: trusts to outside accounts without ``sts:ExternalId`` (or with one any caller meets: a
``*`` pattern, ``IfExists``, a negated operator), OIDC trusts whose ``sub`` is
missing or a wildcard pattern (or without ``aud``), and resources that anyone can reach.
"""

from __future__ import annotations

from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries.base import HopMemo, Parents, QueryView, act_as_steps, path_conditional, path_to, usable
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.privesc import _bits, _Search
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
        self.search = _Search(analysis, whatif, max_depth, deadline)
        self.acting = self.search._pass(False)
        memo: dict[str, Any] = {} if whatif.active else self.graph.query_memo.setdefault("exposure-access", {})
        # access targets numbered as met, and the bitset of each holder's targets over that numbering
        self.held: dict[str, int] = memo.setdefault("held", {})
        self.targets: dict[str, int] = memo.setdefault("targets", {})
        self.target_names: list[str] = memo.setdefault("names", [])

    def acts_as(self, src: str) -> int:
        """Bitset (over ``search.index``) of the nodes ``src`` can act as within the depth, itself excluded."""
        i = self.search.index.get(src)
        return 0 if i is None else self.acting.reach[i] & ~(1 << i)

    def holds(self, node: str) -> int:
        """Bitset (over ``targets``) of the nodes ``node`` has a usable access edge to."""
        found = self.held.get(node)
        if found is None:
            numbers, names = self.targets, self.target_names
            marks = bytearray()
            for e in self.graph.out_edges_of(node, _ACCESS):
                if usable(e, self.whatif) is False:
                    continue
                n = numbers.get(e.target)
                if n is None:
                    n = numbers[e.target] = len(names)
                    names.append(e.target)
                if n >> 3 >= len(marks):
                    marks.extend(bytes((n >> 3) + 1 - len(marks)))
                marks[n >> 3] |= 1 << (n & 7)
            found = self.held[node] = int.from_bytes(marks, "little")
        return found

    def acted_on(self, src: str, acting: int) -> int:
        """Bitset (over ``targets``) of what ``src`` or a node it acts as holds, less those nodes themselves
        (a principal that is also a resource counts once, as a principal)."""
        nodes = self.search.nodes
        held = self.holds(src)
        for i in _bits(acting):
            check(self.deadline)
            held |= self.holds(nodes[i])
        index = self.search.index
        for name in (src, *(nodes[i] for i in _bits(acting) if nodes[i] in self.targets)):
            n = self.targets.get(name)
            if n is not None and (name == src or acting >> index[name] & 1):
                held &= ~(1 << n)
        return held


def _by_account(g: Any, names: list[str], bits: int, into: dict[str, dict[str, int]], field: str) -> None:
    for i in _bits(bits):
        account = _account_of(g, names[i])
        counts = into.setdefault(account, {"principals": 0, "resources": 0})
        counts[field] += 1


def _walk(
    analysis: QueryView,
    src: str,
    whatif: WhatIf,
    max_depth: int,
    limit: int | None,
    admins: set[str],
    deadline: Deadline | None,
) -> tuple[list[_Entry], list[str], Parents]:
    """Breadth-first from ``src`` over act-as edges (the tree of privesc's forward walk): what it reaches, in
    the order of the answer, and the admins among them. At each depth, first the nodes held (access edges)
    by those of the depth before, in their order, then the principals of the depth; every node once, at
    its shortest. Stops when ``limit`` entries are listed and every admin in ``admins`` is found."""
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
        if depth >= max_depth or (full and not wanted):
            break
        below: list[str] = []
        for node in level:
            check(deadline)
            for e, cond in act_as_steps(g, node, parent, whatif, False):
                parent[e.target] = (node, e, cond)
                below.append(e.target)
        for node in below:
            if node in wanted:
                wanted.discard(node)
                found_admins.append(node)
            if node not in listed and (limit is None or len(entries) < limit):
                listed.add(node)
                entries.append((node, None, None))
        level = below
        depth += 1
    return entries, found_admins, parent


def _entry_json(g: Any, entry: _Entry, parent: Parents, hop_json: HopMemo) -> dict[str, Any]:
    target, holder, access = entry
    if holder is None or access is None:
        path = path_to(parent, target)
        return {
            "node": target,
            "kind": str(g.nodes[target].get("kind")),
            "conditional": path_conditional(path),
            "path": [hop_json(e, c) for e, c in path],
        }
    e, cond = access
    full = [*path_to(parent, holder), (e, cond)]
    return {
        "node": target,
        "kind": "resource",
        "actions": list(e.actions),
        "conditional": path_conditional(full),
        "path": [hop_json(x, c) for x, c in full],
    }


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
    outsiders = []
    findings: list[dict[str, Any]] = []
    public: list[dict[str, Any]] = []
    found = [n for n in sorted(g.nodes) if g.nodes[n].get("kind") in OUTSIDE_KINDS]
    reach = _Reach(analysis, whatif, max_depth, deadline) if found else None
    for node in found:
        assert reach is not None
        check(deadline)
        kind = g.nodes[node].get("kind")
        acting = reach.acts_as(str(node))
        held = reach.acted_on(str(node), acting)
        names = reach.search.nodes
        admins = {names[i] for i in _bits(acting) if names[i] in reach.search.admins}
        entries, reached_admins, parent = _walk(analysis, str(node), whatif, max_depth, limit, admins, deadline)
        by_account: dict[str, dict[str, int]] = {}
        _by_account(g, names, acting, by_account, "principals")
        _by_account(g, reach.target_names, held, by_account, "resources")
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
                    "by_account": dict(sorted(by_account.items())),
                },
                "admins": [
                    {
                        "node": a,
                        "conditional": path_conditional(path_to(parent, a)),
                        "path": [hop_json(e, c) for e, c in path_to(parent, a)],
                    }
                    for a in reached_admins
                ],
                "reaches": [_entry_json(g, entry, parent, hop_json) for entry in entries],
                "truncated": len(entries) < total,
            }
        )
    return {"outsiders": outsiders, "public_resources": public, "findings": findings, "limit": limit}
