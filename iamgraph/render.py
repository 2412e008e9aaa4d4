"""Readable rich output of query results (the JSON shapes stay the source of truth)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from iamgraph.conditions_text import conditions_text

__all__ = ["render_query"]


def _short(arn: str) -> str:
    if arn.startswith("arn:"):
        parts = arn.split(":", 5)
        return f"{parts[4] or parts[2]}:{parts[5]}" if len(parts) == 6 else arn
    return arn


_CONDITION_CHARS = 160  # of a hop's conditions on a terminal; --json has them whole
_PUBLIC_ACTIONS = 4  # actions named per public resource on a terminal


def _if(conditions: list[Any]) -> str:
    """`` (if <conditions>)`` for a terminal, escaped; empty when they hold outright."""
    if not conditions:
        return ""
    text = conditions_text(conditions)
    if len(text) > _CONDITION_CHARS:
        text = text[: _CONDITION_CHARS - 1] + "…"
    return f" [yellow](if {escape(text)})[/]"


def _hop(h: dict[str, Any]) -> str:
    cond = _if(h.get("conditions") or [])
    sids = ", ".join(
        f"{p.get('policy', '').rsplit('/', 1)[-1]}:{p.get('sid') or 'Statement[' + str(p.get('index')) + ']'}"
        for p in h.get("proof", [])[:3]
    )
    proof = f"  [dim]by {escape(sids)}[/]" if sids else ""
    via = f" via {escape(', '.join(_short(v) for v in h.get('via', [])))}" if h.get("via") else ""
    return f"--{escape('[' + h['technique'] + ']')}{via}--> {escape(_short(h['target']))}{cond}{proof}"


def _path_tree(parent: Tree, hops: list[dict[str, Any]]) -> None:
    node = parent
    for h in hops:
        node = node.add(_hop(h))


def _who_can(out: Console, r: dict[str, Any]) -> None:
    what = r.get("action") or r.get("access_level") or "any action"
    total = r.get("total", len(r["principals"]))
    shown = len(r["principals"])
    count = f"{total}" if shown == total else f"{shown} of {total}, from #{r.get('offset', 0) + 1}"
    tree = Tree(f"[bold]{escape(_who_can_title(r, str(what)))}[/] ({count})")
    for p in r["principals"]:
        flag = " [yellow]conditional[/]" if p["conditional"] else ""
        _path_tree(tree.add(f"{escape(_short(p['arn']))} [dim]{escape(p['kind'])}[/]{flag}"), p["path"])
    if r.get("truncated"):
        tree.add(f"[dim]… {total - r.get('offset', 0) - shown} more (--offset, --limit)[/]")
    out.print(tree)


def _who_can_title(r: dict[str, Any], what: str) -> str:
    """``who can ACTION on R``; for a user or role ``who can act as R``, for a group ``who holds the
    permissions of R`` (who-can's answer for principals: docs/cli.md)."""
    resource = str(r["resource"])
    kind = resource.split(":", 5)[-1].split("/", 1)[0] if ":iam::" in resource else ""
    if r.get("action") is None and r.get("access_level") is None:
        if kind in ("user", "role"):
            return f"who can act as {resource}"
        if kind == "group":
            return f"who holds the permissions of {resource}"
    return f"who can {what} on {resource}"


def _privesc(out: Console, r: dict[str, Any]) -> None:
    held = r.get("admin_conditions", {})
    names = [escape(_short(a)) + _if(held.get(a, [])) for a in r["admins"]]
    out.print(f"[bold]admins[/] ({len(r['admins'])}): " + ", ".join(names))
    tree = Tree(f"[bold]can escalate to admin[/] ({len(r['escalations'])})")
    for e in r["escalations"]:
        flag = " [yellow]conditional[/]" if e["conditional"] else ""
        _path_tree(tree.add(f"{escape(_short(e['principal']))}{flag}"), e["path"])
    out.print(tree)


def _paths(out: Console, r: dict[str, Any]) -> None:
    tree = Tree(f"[bold]{escape(_short(r['source']))} -> {escape(_short(r['target']))}[/] ({len(r['paths'])} path(s))")
    for i, p in enumerate(r["paths"], 1):
        _path_tree(tree.add(f"path {i}" + (" [yellow]conditional[/]" if p["conditional"] else "")), p["hops"])
    if r.get("truncated"):
        tree.add(f"[yellow]limit of {r['bounds']['limit']} paths reached[/]")
    out.print(tree)


def _can(out: Console, r: dict[str, Any]) -> None:
    style = {"yes": "bold green", "no": "bold red", "conditional": "bold yellow"}[r["answer"]]
    tree = Tree(
        f"[{style}]{r['answer']}[/]: {escape(_short(r['principal']))} {escape(r['action'])} on {escape(r['resource'])}"
    )
    _path_tree(tree, r["path"])
    d = r.get("decision")
    if d:
        tree.add(
            f"last hop decision: {escape(d['decision'])}"
            + (f", blocked by {escape(', '.join(d['blocked_by']))}" if d["blocked_by"] else "")
        )
    out.print(tree)


def _exposure(out: Console, r: dict[str, Any]) -> None:
    tree = Tree("[bold]reachable from outside[/]")
    for o in r["outsiders"]:
        label = f"{escape(_short(o['node']))} [dim]{escape(o['kind'])}[/]"
        if o.get("in_organization") is False:
            label += " [red]outside the organization[/]"
        reached = o.get("reached")
        if reached:
            label += f" [dim]reaches {reached['principals']} principals, {reached['resources']} resources[/]"
        branch = tree.add(label)
        for admin in o.get("admins", ()):
            flag = " [yellow]conditional[/]" if admin["conditional"] else ""
            branch.add(f"[red]admin[/] {escape(_short(admin['node']))}{flag} [dim]{len(admin['path'])} hops[/]")
        for item in o["reaches"]:
            flag = " [yellow]conditional[/]" if item["conditional"] else ""
            branch.add(f"{escape(_short(item['node']))}{flag}")
        if o.get("truncated") and reached:
            more = reached["principals"] + reached["resources"] - len(o["reaches"])
            branch.add(f"[dim]… {more} more (--limit)[/]")
    out.print(tree)
    table = Table("finding", "detail", title="findings", title_justify="left")
    for f in r["findings"]:
        table.add_row(escape(f["finding"]), escape(", ".join(f"{k}={v}" for k, v in f.items() if k != "finding")))
    for p in r["public_resources"]:
        actions = p["actions"]
        listed = ", ".join(actions[:_PUBLIC_ACTIONS]) + (
            f" and {len(actions) - _PUBLIC_ACTIONS} more" if len(actions) > _PUBLIC_ACTIONS else ""
        )
        conditions = p["path"][-1]["conditions"] if p.get("path") else []
        table.add_row("public-resource", escape(f"{p['resource']}: {listed}") + _if(conditions))
    out.print(table)


def _access_levels(out: Console, r: dict[str, Any]) -> None:
    admin = f" (admin{_if(r.get('admin_conditions') or [])})" if r.get("admin") else ""
    table = Table(
        "service",
        "level",
        "allowed",
        "conditional",
        title=escape(r["principal"]) + admin,
        title_justify="left",
    )
    for svc, levels in r["services"].items():
        for lvl, states in levels.items():
            table.add_row(
                escape(svc), escape(lvl), str(len(states.get("allowed", []))), str(len(states.get("conditional", [])))
            )
    out.print(table)


def _diff(out: Console, r: dict[str, Any]) -> None:
    for key in (
        "edges_gained",
        "edges_lost",
        "edges_changed",
        "admins_gained",
        "admins_lost",
        "admins_changed",
        "escalations_gained",
        "escalations_lost",
        "escalations_changed",
    ):
        items = r.get(key, [])
        out.print(f"[bold]{key.replace('_', ' ')}[/] ({len(items)})")
        for item in items[:200]:
            out.print(f"  {_diff_item(item)}")
        if len(items) > 200:
            out.print(f"  … {len(items) - 200} more (--json lists them all)")


def _or_outright(conditions: list[Any]) -> str:
    return _if(conditions).strip() or "outright"


def _diff_item(item: str | dict[str, Any]) -> str:
    """One line of the diff on a terminal, escaped."""
    if isinstance(item, str):
        return escape(item)
    if "before" in item:  # an escalation that became conditional or unconditional
        was, now = ("conditional" if item[k]["conditional"] else "outright" for k in ("before", "after"))
        return f"{escape(_short(item['principal']))}: {was} → {now}"
    if "principal" in item:
        return escape(_short(item["principal"]))
    if "conditions_after" in item:  # an admin under other conditions
        before, after = _or_outright(item["conditions_before"]), _or_outright(item["conditions_after"])
        return f"{escape(_short(item['arn']))}: admin {before} → {after}"
    edge = item.get("edge", item)
    line = f"{escape(_short(edge['source']))} {_hop(edge)}"
    if "edge" in item:  # changed: what changed
        changes = [
            f"{sign}{escape(', '.join(item[key]))}"
            for sign, key in (("+", "actions_gained"), ("-", "actions_lost"))
            if item[key]
        ]
        if "conditions_before" in item:
            changes.append(f"was {_or_outright(item['conditions_before'])}")
        line += " — " + "; ".join(changes)
    return line


_RENDER: dict[str, Callable[[Console, dict[str, Any]], None]] = {
    "who-can": _who_can,
    "privesc": _privesc,
    "path": _paths,
    "can": _can,
    "exposure": _exposure,
    "access-levels": _access_levels,
    "diff": _diff,
}


def render_query(out: Console, name: str, result: dict[str, Any]) -> None:
    _RENDER[name](out, result)
