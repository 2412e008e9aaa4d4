"""The ``iamgraph`` command line: a thin typer shell over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from iamgraph.errors import InputError
from iamgraph.evaluation.document import evaluate_document, iter_documents
from iamgraph.explain import render_decision

app = typer.Typer(
    name="iamgraph",
    help="Graph-based AWS IAM access path explorer with an exact, explainable policy evaluator.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """iamgraph: who can reach what in an AWS estate, by which path, and why."""


@app.command()
def simulate(
    file: Annotated[
        Path, typer.Argument(help="Simulation document(s): JSON object, JSON array or JSON Lines; - for stdin")
    ],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON result per line")] = False,
    exact_context: Annotated[
        bool, typer.Option("--exact-context", help="Use each request context verbatim (no derived keys)")
    ] = False,
) -> None:
    """Evaluate simulation documents (docs/simulate-format.md) and explain each decision."""
    out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    where = "stdin" if str(file) == "-" else str(file)
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except OSError as exc:
        err.print(f"iamgraph: {where}: cannot read ({exc.strerror})", markup=False)
        raise typer.Exit(2) from None
    failed = False
    for index, raw in iter_documents(text, where=where):
        try:
            if isinstance(raw, InputError):
                raise raw
            result = evaluate_document(raw, index=index, exact_context=exact_context)
        except InputError as exc:
            failed = True
            err.print(f"iamgraph: {where}: {exc}", markup=False)
            continue
        if json_out:
            sys.stdout.write(json.dumps(result.to_json(), sort_keys=False) + "\n")
        else:
            render_decision(out, result.id, result.decision, _request_line(raw))
    if failed:
        raise typer.Exit(2)


def _request_line(raw: Any) -> str:
    req = raw.get("request", {}) if isinstance(raw, dict) else {}
    principal = req.get("principal")
    if isinstance(principal, dict):
        principal = principal.get("type", "?")
    return f"{principal} -> {req.get('action')} on {req.get('resource', '*')}"


def main() -> None:
    app()


if __name__ == "__main__":
    main()
