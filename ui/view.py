"""A query answer as a view to draw: the nodes and edges of its paths, the answer items, "N more" caps.

``build_view`` runs one query of the shared query layer (who-can, path, privesc, exposure, neighbourhood, review)
and turns its JSON into plain view data: every node with its details, one edge per (source, target) pair
holding every hop drawn between them (each with its proof unchanged), the text of every statement a proof
names, and what was left out. The same data feeds the served explorer and the standalone evidence file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from iamgraph import __version__
from iamgraph.errors import InputError
from iamgraph.graph.queries import (
    Analysis,
    Deadline,
    WhatIf,
    exposure,
    find_paths,
    neighbourhood,
    node_details,
    privesc,
    who_can,
)
from iamgraph.graph.queries.base import usable
from ui.review import finding_ids, run_review
from ui.statements import proof_refs, statement_index
from ui.text import conditions_text

__all__ = ["DEFAULT_LIMIT", "MAX_NODES", "QUERY_KINDS", "ViewQuery", "build_view"]

DEFAULT_LIMIT = 100  # answer items (principals, paths, escalations, reaches) drawn before "N more"
MAX_NODES = 400  # nodes drawn at most, whatever the limit: beyond this a browser layout gets sluggish
QUERY_KINDS = ("who-can", "path", "privesc", "exposure", "neighbourhood", "review")
Hop = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewQuery:
    """One query to draw. ``limit`` caps the answer items drawn (neighbourhood: the nodes)."""

    kind: str
    resource: str | None = None
    action: str | None = None
    access_level: str | None = None
    source: str | None = None
    target: str | None = None
    node: str | None = None
    all_paths: bool = False
    max_depth: int = 8
    depth: int = 1
    min_severity: str | None = None
    as_of: str | None = None
    limit: int = DEFAULT_LIMIT
    whatif: WhatIf = field(default_factory=WhatIf)

    def params(self) -> dict[str, Any]:
        """The parameters that were given, for display and to run the query again."""
        names = {
            "who-can": ("resource", "action", "access_level", "max_depth"),
            "path": ("source", "target", "all_paths", "max_depth"),
            "privesc": ("max_depth",),
            "exposure": ("max_depth",),
            "neighbourhood": ("node", "depth"),
            "review": ("min_severity", "as_of"),
        }[self.kind]
        out = {n: getattr(self, n) for n in names if getattr(self, n) not in (None, False)}
        return {**out, "limit": self.limit}


@dataclass(slots=True)
class _Builder:
    analysis: Analysis
    limit: int
    max_nodes: int = MAX_NODES
    roles: dict[str, str | None] = field(default_factory=dict)
    pairs: dict[tuple[str, str], dict[str, Hop]] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    more: list[dict[str, Any]] = field(default_factory=list)
    lists: list[dict[str, Any]] = field(default_factory=list)
    total_items: int = 0

    def node(self, arn: str, role: str | None = None) -> None:
        if role is not None or arn not in self.roles:
            self.roles[arn] = role or self.roles.get(arn)

    def hop(self, hop: Hop) -> tuple[str, str]:
        pair = (hop["source"], hop["target"])
        key = json.dumps([hop["kind"], hop["technique"], hop["conditions"]], sort_keys=True)
        self.pairs.setdefault(pair, {}).setdefault(key, {**hop, "conditions_text": conditions_text(hop["conditions"])})
        self.node(hop["source"])
        self.node(hop["target"])
        return pair

    def item(self, label: str, note: str, conditional: bool, hops: list[Hop], extra: tuple[str, ...] = ()) -> bool:
        """Draw one answer item (its path) unless the item or node cap is reached; False when left out."""
        self.total_items += 1
        needed = {h["source"] for h in hops} | {h["target"] for h in hops} | set(extra)
        if len(self.items) >= self.limit or len(self.roles) + len(needed - self.roles.keys()) > self.max_nodes:
            return False
        for arn in extra:
            self.node(arn)
        pairs = [self.hop(h) for h in hops]
        nodes = list(dict.fromkeys([*extra, *(p for pair in pairs for p in pair)]))
        self.items.append(
            {
                "label": label,
                "note": note,
                "conditional": conditional,
                "nodes": nodes,
                "edges": [list(p) for p in pairs],
            }
        )
        return True

    def left_out(self, anchor: str | None, count: int | None, what: str, *, incoming: bool = True) -> None:
        """Record what was not drawn; an anchored record is drawn as an "N more" node next to its anchor."""
        if count is None or count > 0:
            anchored = anchor if anchor in self.roles else None
            self.more.append({"anchor": anchored, "count": count, "what": what, "incoming": incoming})


def _hops_note(hops: list[Hop]) -> str:
    return "direct" if len(hops) == 1 else f"{len(hops)} hops"


def _who_can(b: _Builder, q: ViewQuery, deadline: Deadline | None) -> str:
    if not q.resource:
        raise InputError("a resource is needed", element="resource")
    r = who_can(
        b.analysis,
        q.resource,
        action=q.action,
        access_level=q.access_level,
        whatif=q.whatif,
        max_depth=q.max_depth,
        limit=q.limit,  # no more can be drawn; the rest is counted
        deadline=deadline,
    )
    b.node(r["resource"], "target")
    skipped = r["total"] - len(r["principals"])
    b.total_items += skipped
    skipped += sum(not b.item(p["arn"], _hops_note(p["path"]), p["conditional"], p["path"]) for p in r["principals"])
    b.left_out(r["resource"], skipped, "principals")
    for arn in (i["nodes"][0] for i in b.items):
        b.node(arn, "source")
    if q.action:
        return f"Who can {q.action} on {r['resource']}"
    if q.access_level:
        return f"Who has {q.access_level} access to {r['resource']}"
    return f"Who can access {r['resource']}"


def _path(b: _Builder, q: ViewQuery, deadline: Deadline | None) -> str:
    if not q.source or not q.target:
        raise InputError("a source and a target are needed", element="source/target")
    r = find_paths(
        b.analysis,
        q.source,
        q.target,
        all_paths=q.all_paths,
        max_depth=q.max_depth,
        limit=max(q.limit, 1),
        whatif=q.whatif,
        deadline=deadline,
    )
    b.node(r["source"], "source")
    b.node(r["target"], "target")
    skipped = 0
    for i, p in enumerate(r["paths"], 1):
        skipped += not b.item(f"path {i}", _hops_note(p["hops"]), p["conditional"], p["hops"])
    b.left_out(None, skipped, "paths")
    if r["truncated"]:
        b.left_out(None, None, "paths beyond the limit")
    if not r["paths"]:
        b.lists.append({"title": "No path", "entries": [{"text": f"no path within {q.max_depth} hops", "node": None}]})
    return f"{'Paths' if q.all_paths else 'Shortest path'} from {r['source']} to {r['target']}"


def _name(analysis: Analysis, arn: str) -> str:
    name = analysis.graph.graph.nodes[arn].get("name") if arn in analysis.graph.graph else None
    return str(name or arn)


def _privesc(b: _Builder, q: ViewQuery, deadline: Deadline | None) -> str:
    r = privesc(b.analysis, whatif=q.whatif, max_depth=q.max_depth, deadline=deadline)
    skipped = 0
    for e in r["escalations"]:
        end = e["path"][-1]["target"] if e["path"] else e["principal"]
        note = f"→ admin {_name(b.analysis, end)} ({_hops_note(e['path'])})"
        skipped += not b.item(e["principal"], note, e["conditional"], e["path"])
    b.left_out(None, skipped, "escalations")
    for item in b.items:
        b.node(item["nodes"][0], "source")
    held = r.get("admin_conditions", {})
    entries = [
        {"text": f"{a} (admin if {conditions_text(held[a])})" if a in held else a, "node": a} for a in r["admins"]
    ]
    b.lists.append({"title": f"Admins ({len(r['admins'])})", "entries": entries})
    return "Who can escalate to admin"


def _finding_text(f: dict[str, Any]) -> str:
    rest = ", ".join(f"{k}: {v}" for k, v in f.items() if k not in ("finding", "role"))
    return f"{f.get('finding')}: {f.get('role')}" + (f" ({rest})" if rest else "")


def _exposure(b: _Builder, q: ViewQuery, deadline: Deadline | None) -> str:
    # no outsider draws more than the limit: the answer lists that many and counts the rest
    r = exposure(b.analysis, whatif=q.whatif, max_depth=q.max_depth, limit=q.limit, deadline=deadline)
    for o in r["outsiders"]:
        b.node(o["node"], "source")
    for o in r["outsiders"]:
        skipped = o["reached"]["principals"] + o["reached"]["resources"] - len(o["reaches"])
        b.total_items += skipped
        for reach in o["reaches"]:
            acts = reach.get("actions")
            note = f"{len(acts)} action(s)" if acts else "acts as it"
            label = f"{_name(b.analysis, o['node'])} → {_name(b.analysis, reach['node'])}"
            skipped += not b.item(label, note, reach["conditional"], reach["path"])
        b.left_out(o["node"], skipped, "reached", incoming=False)
    skipped = 0
    for p in r["public_resources"]:
        label = f"public: {_name(b.analysis, p['resource'])}"
        skipped += not b.item(label, ", ".join(p["actions"]), p["conditional"], p["path"])
    b.left_out(None, skipped, "public resources")
    entries = [{"text": _finding_text(f), "node": f.get("role")} for f in r["findings"]]
    b.lists.append({"title": f"Findings ({len(entries)})", "entries": entries})
    if "resource_access" in r:  # a graph with resource access on demand: say what is not counted
        b.lists.append({"title": "Resource access", "entries": [{"text": r["resource_access"], "node": None}]})
    return "Exposure: what outsiders and anyone reach"


def _neighbour_count(analysis: Analysis, center: str, whatif: WhatIf) -> int:
    g = analysis.graph
    others: set[str] = set()
    for adjacency in (g.out_adjacency(center), g.in_adjacency(center)):
        for other, found in adjacency.items():
            if any(usable(d["edge"], whatif) is not False for d in found):
                others.add(other)
    return len(others)


def _neighbourhood(b: _Builder, q: ViewQuery, deadline: Deadline | None) -> str:
    if not q.node:
        raise InputError("a node is needed", element="node")
    r = neighbourhood(b.analysis, q.node, depth=q.depth, limit=max(q.limit, 1), whatif=q.whatif, deadline=deadline)
    b.node(r["center"], "focus")
    for n in r["nodes"]:
        b.node(n["id"])
    for hop in r["edges"]:
        b.hop(hop)
    if r["truncated"]:
        hidden = _neighbour_count(b.analysis, r["center"], q.whatif) - (len(r["nodes"]) - 1) if q.depth == 1 else 0
        if hidden > 0:
            b.left_out(r["center"], hidden, "neighbours")
        else:  # deeper, or cut by the edge cap: the number left out is not known without the full walk
            b.left_out(r["center"], None, "neighbours or edges")
    return f"Neighbourhood of {r['center']}"


def _review(b: _Builder, q: ViewQuery, deadline: Deadline | None) -> str:
    """One item per finding of the review (``GET /review``'s entry point), each with its own nodes and hops:
    the explorer draws one finding at a time, so the node cap does not apply here, only ``limit``."""
    report = run_review(b.analysis, min_severity=q.min_severity, as_of=q.as_of, deadline=deadline)
    skipped = 0
    for f in report["findings"]:
        b.total_items += 1
        if len(b.items) >= b.limit:
            skipped += 1
            continue
        ids = finding_ids(b.analysis, f)
        for arn in ids:
            b.node(arn)
        paths = f["evidence"]["paths"]
        pairs = list(dict.fromkeys(b.hop(h) for p in paths for h in p["hops"]))
        b.items.append(
            {
                "label": f["title"],
                "note": f["check"],
                "conditional": any(p.get("conditional") for p in paths),
                "nodes": list(dict.fromkeys([*ids, *(n for pair in pairs for n in pair)])),
                "edges": [list(p) for p in pairs],
                "finding": f,
            }
        )
    b.left_out(None, skipped, "findings")
    as_of = report["as_of"]
    when = f"as of {as_of['time']} ({as_of['source']})" if as_of["time"] else str(as_of["note"])
    b.lists.append({"title": "As of", "entries": [{"text": when, "node": None}]})
    gaps = [
        {
            "text": f"{', '.join(n['checks'])}: {n['reason']}" + (f" (account {n['account']})" if n["account"] else ""),
            "node": None,
        }
        for n in report["not_assessed"]
    ]
    if gaps:
        b.lists.append({"title": f"Not assessed ({len(gaps)})", "entries": gaps})
    return "Review findings" + (f" ({q.min_severity} and above)" if q.min_severity else "")


_RUN: dict[str, Callable[[_Builder, ViewQuery, Deadline | None], str]] = {
    "who-can": _who_can,
    "path": _path,
    "privesc": _privesc,
    "exposure": _exposure,
    "neighbourhood": _neighbourhood,
    "review": _review,
}


def _account_names(analysis: Analysis) -> dict[str, str]:
    names = {
        a: (o.name or a)
        for a, o in (analysis.snapshot.organization.accounts.items() if analysis.snapshot.organization else ())
    }
    for account in analysis.snapshot.accounts.values():
        if account.alias:
            names[account.id] = account.alias
    return names


def _node(analysis: Analysis, arn: str, role: str | None, accounts: dict[str, str]) -> dict[str, Any]:
    details = node_details(analysis, arn)
    n = details["node"]
    account = n.get("account")
    return {
        "id": arn,
        "kind": n.get("kind", ""),
        "name": n.get("name") or arn,
        "account": account,
        "account_name": accounts.get(account) if isinstance(account, str) else None,
        "admin": bool(n.get("admin")),
        "admin_conditional": bool(n.get("admin_conditions")),
        "resource_type": n.get("resource_type"),
        "emphasis": role,
        "details": details,
    }


def build_view(
    analysis: Analysis,
    query: ViewQuery,
    *,
    snapshot: str | None = None,
    deadline: Deadline | None = None,
    max_nodes: int = MAX_NODES,
) -> dict[str, Any]:
    """Run ``query`` and return its view data (JSON-ready; see docs/ui.md, "View data")."""
    if query.kind not in _RUN:
        raise InputError(f'"{query.kind}" is not one of {", ".join(QUERY_KINDS)}', element="query")
    if query.limit < 1:
        raise InputError("must be at least 1", element="limit")
    b = _Builder(analysis, query.limit, max_nodes)
    title = _RUN[query.kind](b, query, deadline)
    accounts = _account_names(analysis)
    nodes = [_node(analysis, arn, role, accounts) for arn, role in b.roles.items()]
    edges = [{"source": s, "target": t, "hops": list(hops.values())} for (s, t), hops in b.pairs.items()]
    refs = [
        *proof_refs([e["hops"] for e in edges]),
        *proof_refs([n["details"]["node"] for n in nodes]),
        *proof_refs([i["finding"]["evidence"]["statements"] for i in b.items if "finding" in i]),
    ]
    return {
        "format": 1,
        "title": title,
        "query": {
            "kind": query.kind,
            "params": query.params(),
            "context": {k: list(v) if isinstance(v, tuple) else v for k, v in query.whatif.values.items()},
            "assume_unknown": query.whatif.assume.value,
        },
        "generated": {
            "by": f"iamgraph {__version__}",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "snapshot": snapshot,
        },
        "redacted": False,
        "layout": "sources" if query.kind == "exposure" else "targets",
        "nodes": nodes,
        "edges": edges,
        "items": b.items,
        "total_items": b.total_items,
        "more": b.more,
        "lists": b.lists,
        "statements": statement_index(analysis).entries(refs),
    }
