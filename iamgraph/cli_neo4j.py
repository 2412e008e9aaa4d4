"""``iamgraph neo4j load``: analyse a snapshot and write its graph to Neo4j (docs/cli.md, README "Neo4j")."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from iamgraph.cli_query import PasswordOpt, SnapshotOpt, UserOpt, _load
from iamgraph.errors import IamGraphError
from iamgraph.store.base import LoadReport

__all__ = ["register"]

neo4j_app = typer.Typer(
    help="Keep snapshots in a Neo4j database (query them with --store neo4j).", no_args_is_help=True
)


@neo4j_app.command("load")
def load_cmd(
    data: Annotated[
        Path, typer.Option("--data", envvar="IAMGRAPH_DATA", help="Snapshot directory (env IAMGRAPH_DATA)")
    ],
    uri: Annotated[str, typer.Option("--uri", envvar="NEO4J_URI", help="Bolt URI, e.g. bolt://127.0.0.1:7687")],
    user: UserOpt = None,
    password: PasswordOpt = None,
    snapshot: SnapshotOpt = "default",
    account: Annotated[
        list[str] | None,
        typer.Option("--account", help="Replace only this account's data (repeatable); default: the whole snapshot"),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the load report as JSON")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Rebuild the graph instead of using the cache")] = False,
) -> None:
    """Build the graph of a snapshot and load it under a snapshot name; stale nodes and edges are removed."""
    from iamgraph.store import open_store
    from iamgraph.store.neo4j_store import Neo4jStore

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        if err.is_terminal:
            with err.status("loading snapshot and building the graph"):
                analysis = _load(data, no_cache, whole=True)
        else:
            analysis = _load(data, no_cache, whole=True)
        analysis.graph.require_every_edge("Neo4j load")  # before connecting: the answer does not depend on it
        store = open_store("neo4j", uri=uri, user=user, password=password, snapshot=snapshot)
        assert isinstance(store, Neo4jStore)
        try:
            report = _with_bar(
                err, lambda progress: store.load(analysis, accounts=set(account or ()) or None, progress=progress)
            )
        finally:
            store.close()
    except IamGraphError as exc:
        err.print(f"iamgraph: {exc}", markup=False)
        raise typer.Exit(2) from None
    if json_out:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
        return
    out = Console(highlight=False, soft_wrap=True)
    out.print(
        f"snapshot {report.snapshot!r}: {report.nodes} nodes, {report.relationships} relationships "
        f"in {report.seconds:.1f} s ({report.rate:,.0f} relationships/s); "
        f"removed {report.removed_nodes} stale nodes, {report.removed_relationships} stale relationships",
        markup=False,
    )


def _with_bar(err: Console, run: Any) -> LoadReport:
    """A progress bar on a terminal; nothing extra when stderr is piped."""
    if not err.is_terminal:
        return run(None)  # type: ignore[no-any-return]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("writing", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=f"writing {what}", completed=done, total=total)

        return run(progress)  # type: ignore[no-any-return]


def register(app: typer.Typer) -> None:
    app.add_typer(neo4j_app, name="neo4j")
