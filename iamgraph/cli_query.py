"""Query commands of the CLI: thin shells over iamgraph.graph.queries (docs/cli.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from iamgraph.cli_options import option_groups
from iamgraph.errors import IamGraphError, InputError
from iamgraph.graph.queries import (
    Analysis,
    AssumeUnknown,
    WhatIf,
    access_levels,
    can,
    diff,
    parse_context_pairs,
)
from iamgraph.render import render_query
from iamgraph.store.base import GraphStore
from iamgraph.store.cache import resource_access_mode

__all__ = ["register"]

DataOpt = Annotated[Path, typer.Option("--data", envvar="IAMGRAPH_DATA", help="Snapshot directory (env IAMGRAPH_DATA)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON (schema: docs/cli.md)")]
ContextOpt = Annotated[
    list[str] | None,
    typer.Option("--context", help="What-if context key=value (repeatable), e.g. aws:SourceIp=203.0.113.7"),
]
AssumeOpt = Annotated[
    AssumeUnknown, typer.Option("--assume-unknown", help="Conditions on unknown keys: keep (conditional), allow, deny")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Rebuild the graph instead of using the on-disk cache")]
OptDataOpt = Annotated[
    Path | None,
    typer.Option("--data", envvar="IAMGRAPH_DATA", help="Snapshot directory (env IAMGRAPH_DATA; memory store)"),
]
StoreOpt = Annotated[
    str, typer.Option("--store", envvar="IAMGRAPH_STORE", help="memory (build from --data) or neo4j (--uri)")
]
UriOpt = Annotated[str | None, typer.Option("--uri", envvar="NEO4J_URI", help="Neo4j Bolt URI (env NEO4J_URI)")]
UserOpt = Annotated[str | None, typer.Option("--user", envvar="NEO4J_USER", help="Neo4j user (env NEO4J_USER)")]
PasswordOpt = Annotated[
    str | None, typer.Option("--password", envvar="NEO4J_PASSWORD", help="Neo4j password (env NEO4J_PASSWORD)")
]
SnapshotOpt = Annotated[
    str, typer.Option("--snapshot", envvar="IAMGRAPH_SNAPSHOT", help="Snapshot name in the Neo4j store")
]


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """The what-if and output options the query commands share."""

    context: ContextOpt = None
    assume_unknown: AssumeOpt = AssumeUnknown.KEEP
    json_out: JsonOpt = False
    no_cache: NoCacheOpt = False

    def whatif(self) -> WhatIf:
        return WhatIf(parse_context_pairs(self.context), self.assume_unknown)


@dataclass(frozen=True, slots=True)
class StoreChoice:
    """Where a query command reads the graph: a snapshot directory (memory) or a Neo4j snapshot."""

    store: StoreOpt = "memory"
    uri: UriOpt = None
    user: UserOpt = None
    password: PasswordOpt = None
    snapshot: SnapshotOpt = "default"

    def run(self, data: Path | None, no_cache: bool, query: Callable[[GraphStore], dict[str, Any]]) -> dict[str, Any]:
        from iamgraph.store import MemoryStore, open_store

        if self.store == "memory":
            if data is None:
                raise InputError("a snapshot directory is needed (--data or IAMGRAPH_DATA)", element="--data")
            memory = MemoryStore(self.snapshot)
            memory.load(_load(data, no_cache))
            return query(memory)
        store = open_store(self.store, uri=self.uri, user=self.user, password=self.password, snapshot=self.snapshot)
        try:
            return query(store)
        finally:
            store.close()


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _analysis(data: Path, no_cache: bool, resource_access: str | None = None) -> Analysis:
    from iamgraph.store import load_analysis

    err = _err()
    if err.is_terminal:
        with err.status("loading snapshot and building the graph"):
            return load_analysis(data, use_cache=not no_cache, resource_access=resource_access)
    return load_analysis(data, use_cache=not no_cache, resource_access=resource_access)


def _run(name: str, json_out: bool, fn: Callable[[], dict[str, Any]]) -> None:
    try:
        result = fn()
    except IamGraphError as exc:
        _err().print(f"iamgraph: {exc}", markup=False)
        raise typer.Exit(2) from None
    if json_out:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
    else:
        render_query(Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200), name, result)


_WHOLE_GRAPH: dict[str, tuple[str, Callable[[GraphStore, WhatIf], dict[str, Any]]]] = {
    "privesc": (
        "Principals that are not admin but can reach admin, with a path each; admins listed.",
        lambda st, whatif: st.privesc(whatif=whatif),
    ),
}


def _register_whole_graph(app: typer.Typer, name: str) -> None:
    """``privesc`` or ``exposure``: a query over the whole graph, with no subject."""
    doc, query = _WHOLE_GRAPH[name]

    @app.command(name, help=doc)
    @option_groups
    def command(data: OptDataOpt = None, *, opts: QueryOptions, where: StoreChoice) -> None:
        def answer() -> dict[str, Any]:
            whatif = opts.whatif()  # a bad --context is reported by _run, before the graph is loaded
            return where.run(data, opts.no_cache, lambda st: query(st, whatif))

        _run(name, opts.json_out, answer)


def register(app: typer.Typer) -> None:
    @app.command("who-can")
    @option_groups
    def who_can_cmd(
        resource: Annotated[str, typer.Argument(help="Resource ARN or name")],
        data: OptDataOpt = None,
        action: Annotated[str | None, typer.Option("--action", help="e.g. s3:GetObject")] = None,
        access_level: Annotated[str | None, typer.Option("--access-level", help="List, Read, Write, ...")] = None,
        limit: Annotated[
            int | None, typer.Option("--limit", min=0, help="List this many (nearest first); all are counted")
        ] = None,
        offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many of the list first")] = 0,
        *,
        opts: QueryOptions,
        where: StoreChoice,
    ) -> None:
        """Every principal (and outsider) that can act on RESOURCE, with the shortest path for each."""

        def answer() -> dict[str, Any]:
            whatif = opts.whatif()
            return where.run(
                data,
                opts.no_cache,
                lambda st: st.who_can(
                    resource, action=action, access_level=access_level, whatif=whatif, limit=limit, offset=offset
                ),
            )

        _run("who-can", opts.json_out, answer)

    @app.command("can")
    @option_groups
    def can_cmd(
        principal: Annotated[str, typer.Argument()],
        resource: Annotated[str, typer.Argument()],
        data: DataOpt,
        action: Annotated[str, typer.Option("--action")],
        *,
        opts: QueryOptions,
    ) -> None:
        """yes / no / conditional, with the path and the full decision of the last hop."""
        _run(
            "can",
            opts.json_out,
            lambda: can(_load(data, opts.no_cache), principal, resource, action, whatif=opts.whatif()),
        )

    @app.command("path")
    @option_groups
    def path_cmd(
        source: Annotated[str, typer.Argument()],
        target: Annotated[str, typer.Argument()],
        data: OptDataOpt = None,
        all_paths: Annotated[bool, typer.Option("--all", help="All simple paths within the bounds")] = False,
        max_depth: Annotated[int, typer.Option("--max-depth", min=1, max=20)] = 6,
        limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
        *,
        opts: QueryOptions,
        where: StoreChoice,
    ) -> None:
        """Shortest path from SOURCE to TARGET (or --all, bounded by --max-depth and --limit)."""

        def answer() -> dict[str, Any]:
            whatif = opts.whatif()
            return where.run(
                data,
                opts.no_cache,
                lambda st: st.path(
                    source, target, all_paths=all_paths, max_depth=max_depth, limit=limit, whatif=whatif
                ),
            )

        _run("path", opts.json_out, answer)

    for name in _WHOLE_GRAPH:
        _register_whole_graph(app, name)

    @app.command("exposure")
    @option_groups
    def exposure_cmd(
        data: OptDataOpt = None,
        limit: Annotated[
            int,
            typer.Option("--limit", min=0, help="Reached nodes listed per outsider, nearest first; all are counted"),
        ] = 100,
        *,
        opts: QueryOptions,
        where: StoreChoice,
    ) -> None:
        """What outside accounts, providers and anyone can reach; risky trusts; public resources."""

        def answer() -> dict[str, Any]:
            whatif = opts.whatif()
            return where.run(data, opts.no_cache, lambda st: st.exposure(whatif=whatif, limit=limit))

        _run("exposure", opts.json_out, answer)

    @app.command("access-levels")
    @option_groups
    def access_levels_cmd(
        principal: Annotated[str, typer.Argument()],
        data: DataOpt,
        *,
        opts: QueryOptions,
    ) -> None:
        """Effective permissions of PRINCIPAL grouped by service and access level."""
        _run(
            "access-levels",
            opts.json_out,
            lambda: access_levels(_load(data, opts.no_cache), principal, whatif=opts.whatif()),
        )

    @app.command("diff")
    @option_groups
    def diff_cmd(
        old: Annotated[Path, typer.Argument(help="Older snapshot")],
        new: Annotated[Path, typer.Argument(help="Newer snapshot")],
        *,
        opts: QueryOptions,
    ) -> None:
        """Edges, admins and escalation paths gained and lost between two snapshots."""
        _run(
            "diff",
            opts.json_out,
            lambda: diff(_load(old, opts.no_cache), _load(new, opts.no_cache), whatif=opts.whatif()),
        )

    @app.command("export")
    def export_cmd(
        data: DataOpt,
        fmt: Annotated[str, typer.Option("--format", help="json | graphml | cypher")] = "json",
        output: Annotated[Path | None, typer.Option("-o", "--output", help="File (default: stdout)")] = None,
        no_cache: NoCacheOpt = False,
    ) -> None:
        """Export the whole graph: JSON, GraphML (Gephi/yEd) or a Cypher script (Neo4j)."""
        from iamgraph.export import to_cypher, to_graphml, to_json

        writers = {"json": to_json, "graphml": to_graphml, "cypher": to_cypher}
        if fmt not in writers:
            _err().print(f"iamgraph: --format: must be one of {', '.join(writers)}", markup=False)
            raise typer.Exit(2)
        try:
            text = writers[fmt](_load(data, no_cache, whole=True).graph)
        except InputError as exc:
            _err().print(f"iamgraph: {exc}", markup=False)
            raise typer.Exit(2) from None
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")


def _load(data: Path, no_cache: bool, *, whole: bool = False) -> Analysis:
    """``whole``: for what writes every edge out (export, Neo4j load): ``auto`` builds every access edge
    (an explicit ``on-demand`` is refused by the writer, with the reason)."""
    if not data.exists():
        raise InputError("no such file or directory", where=str(data))
    mode = resource_access_mode()
    return _analysis(data, no_cache, "eager" if whole and mode == "auto" else mode)
