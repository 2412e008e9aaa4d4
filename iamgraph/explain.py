"""Readable rendering of decisions for the terminal (rich); data stays in Decision."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from iamgraph.evaluation.decision import Decision, Result
from iamgraph.policy.logic import And, Atom, Expr, Not, Or

__all__ = ["describe_expr", "render_decision"]

_STYLE = {
    Result.ALLOWED: "bold green",
    Result.EXPLICITLY_DENIED: "bold red",
    Result.IMPLICITLY_DENIED: "red",
    Result.CONDITIONAL: "bold yellow",
    Result.UNKNOWN: "bold magenta",
}


def describe_expr(x: Expr) -> str:
    """One-line text for a residual expression."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, Atom):
        where = f"{x.source.policy}/{x.source.label}"
        if x.clause is not None:
            c = x.clause
            vals = ", ".join(c.values)
            text = f"{c.operator} {c.key} [{vals}]"
        else:
            text = x.reason
        tag = " (undecidable)" if x.undecidable else ""
        return f"{text} ({where}){tag}"
    if isinstance(x, Not):
        return f"NOT ({describe_expr(x.item)})"
    sep = " AND " if isinstance(x, And) else " OR "
    assert isinstance(x, And | Or)
    return "(" + sep.join(sorted(describe_expr(i) for i in x.items)) + ")"


def render_decision(console: Console, doc_id: str, d: Decision, request: str) -> None:
    tree = Tree(f"[bold]{escape(doc_id)}[/]: {escape(request)}")
    head = f"[{_STYLE[d.result]}]{d.result.value}[/]"
    if d.blocked_by:
        head += f"  blocked by: {escape(', '.join(d.blocked_by))}"
    tree.add(head)
    if d.matched:
        m = tree.add("matched statements")
        for s in d.matched:
            r = s.ref
            cond = " [yellow](conditional)[/]" if s.conditional else ""
            forms = f" as {', '.join(s.forms)}" if s.forms else ""
            layer = f"{r.layer.value} at {s.level}" if s.level else r.layer.value
            m.add(escape(f"{layer}: {r.policy} / {r.label}: {r.effect.value}{forms}") + cond)
    if not isinstance(d.residual, bool):
        tree.add("allowed if: " + escape(describe_expr(d.residual)))
    for note in d.notes:
        tree.add("note: " + escape(note))
    for w in d.warnings:
        tree.add("[yellow]warning:[/] " + escape(w))
    console.print(tree)
