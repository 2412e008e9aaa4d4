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

ResourceAccessOpt = Annotated[
    str | None,
    typer.Option(
        "--resource-access",
        help="eager: every access edge at build; on-demand: those onto a resource when a query reaches it, "
        "for estates too large for the first; auto: eager up to 10,000 principals, on-demand above "
        "(env IAMGRAPH_RESOURCE_ACCESS; default auto)",
    ),
]

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


SHOWN_WARNINGS = 50  # on a terminal; --json has them all
graph_app = typer.Typer(help="Build the access graph of a snapshot.", no_args_is_help=True)
app.add_typer(graph_app, name="graph")


@graph_app.command("build")
def graph_build(
    data: Annotated[Path, typer.Argument(help="Snapshot directory or a bare authorization-details file")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    resource_access: ResourceAccessOpt = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=2,
            help="processes deriving edges: 2 derives the credentials, PassRole, takeover and trust-rewrite "
            "edges in a forked copy (Linux), 1 all in this one; default 2 from 2,000 users and roles",
        ),
    ] = None,
) -> None:
    """Load a snapshot, derive every edge with its proof, print node/edge counts and timings."""
    import time

    from iamgraph.graph import build_graph, summary
    from iamgraph.ingest import load_snapshot
    from iamgraph.store import resource_access_mode

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    started = time.perf_counter()
    try:
        mode = resource_access_mode(resource_access)
        snapshot = load_snapshot(data)
    except InputError as exc:
        err.print(f"iamgraph: {exc}", markup=False)
        raise typer.Exit(2) from None
    loaded = time.perf_counter() - started
    g = _with_progress(
        lambda progress: build_graph(snapshot, progress=progress, resource_access=mode, workers=workers), err
    )
    result = summary(g)
    result["timings"] = {"load": round(loaded, 4), **result["timings"]}  # type: ignore[dict-item]
    if json_out:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    out = Console(highlight=False, soft_wrap=True)
    _print_summary(out, result, len(g.warnings))
    # what a live collection could not read (collection-report.json), policy elements that never match, ...
    for warning in g.warnings[:SHOWN_WARNINGS]:
        out.print(warning, markup=False)
    if len(g.warnings) > SHOWN_WARNINGS:
        out.print(f"... and {len(g.warnings) - SHOWN_WARNINGS} more warnings (--json lists them all)", markup=False)


def _with_progress(run: Any, err: Console) -> Any:
    """A progress bar on a terminal; nothing extra when stderr is piped. Redrawn on each step, not by a
    thread of its own: the build forks only when it is alone in its process."""
    if not err.is_terminal:
        return run(None)
    from rich.progress import Progress

    with Progress(console=err, transient=True, auto_refresh=False) as bar:
        task = bar.add_task("building graph", total=None)
        bar.refresh()

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, description=f"edges: {name}", completed=done, total=total, refresh=True)

        return run(progress)


def _print_summary(out: Console, result: dict[str, Any], warnings: int) -> None:
    from rich.table import Table

    for title in ("nodes", "edges", "techniques", "timings"):
        table = Table(title=title, title_justify="left")
        table.add_column("kind")
        table.add_column("count" if title != "timings" else "seconds", justify="right")
        for k, v in result[title].items():
            table.add_row(str(k), str(v))
        out.print(table)
    out.print(f"admins: {result['admins']}   warnings: {warnings}")
    if result.get("resource_access") == "on-demand":
        out.print("resource access: on demand (the access edges above are outsiders'; queries make the others)")


def _request_line(raw: Any) -> str:
    req = raw.get("request", {}) if isinstance(raw, dict) else {}
    principal = req.get("principal")
    if isinstance(principal, dict):
        principal = principal.get("type", "?")
    return f"{principal} -> {req.get('action')} on {req.get('resource', '*')}"


@app.command()
def serve(
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="Snapshot directory (repeatable; default: IAMGRAPH_DATA)")
    ] = None,
    name: Annotated[
        list[str] | None, typer.Option("--name", help="Name of the snapshot of the matching --data (repeatable)")
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="Bind address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000)")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Rebuild graphs instead of using the cache")] = False,
    resource_access: ResourceAccessOpt = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Server processes forked after loading, sharing the graph (default 1; above 1: no uploads or deletes)",
        ),
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", help="memory (--data, the default) or neo4j (env IAMGRAPH_STORE)")
    ] = None,
    uri: Annotated[str | None, typer.Option("--uri", help="Neo4j Bolt URI (env NEO4J_URI)")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Neo4j user (env NEO4J_USER, default neo4j)")] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="Neo4j password (better: env NEO4J_PASSWORD)")
    ] = None,
    snapshot: Annotated[
        list[str] | None,
        typer.Option("--snapshot", help="Neo4j snapshot to serve (repeatable; first: default; default: all)"),
    ] = None,
) -> None:
    """Serve the HTTP API over named snapshots (token: IAMGRAPH_API_TOKEN; settings: README "HTTP API")."""
    try:
        from api.serve import serve as run_server
    except ImportError as exc:
        Console(stderr=True).print(f"iamgraph serve: needs the api extra (pip install 'iamgraph[api]'): {exc}")
        raise typer.Exit(2) from None
    overrides = {
        "host": host,
        "port": port,
        "use_cache": False if no_cache else None,
        "resource_access": resource_access,
        "workers": workers,
        "store": store,
        "neo4j_uri": uri,
        "neo4j_user": user,
        "neo4j_password": password,
        "snapshots": ",".join(snapshot) if snapshot else None,
    }
    status = run_server(list(data or []), list(name or []), overrides)
    if status:
        raise typer.Exit(status)


def main() -> None:
    app()


def _register_queries() -> None:
    from iamgraph.cli_collect import register as register_collect
    from iamgraph.cli_neo4j import register as register_neo4j
    from iamgraph.cli_query import register
    from iamgraph.cli_review import register as register_review
    from iamgraph.cli_viz import register as register_viz

    register(app)
    register_neo4j(app)
    register_review(app)
    register_viz(app)
    register_collect(app)


_register_queries()


if __name__ == "__main__":
    main()
