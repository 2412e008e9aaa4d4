"""``iamgraph viz QUERY ... -o finding.html``: a query's graph as one self-contained HTML file (docs/ui.md).

The file inlines vis-network and the explorer's script and style and embeds the view data: it opens from
disk with no network access, with the same node details and edge proofs as the served explorer.
``--redact`` replaces account ids and names by stable pseudonyms (``--redact-key`` for the same
pseudonyms across files). Needs the ``ui`` extra (pyvis).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from iamgraph.cli_options import option_groups
from iamgraph.errors import IamGraphError, InputError
from iamgraph.graph.queries import AssumeUnknown, WhatIf, parse_context_pairs
from iamgraph.review import Severity

__all__ = ["register"]

DataOpt = Annotated[Path, typer.Option("--data", envvar="IAMGRAPH_DATA", help="Snapshot directory (env IAMGRAPH_DATA)")]
OutOpt = Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write (- for stdout)")]
ContextOpt = Annotated[
    list[str] | None, typer.Option("--context", help="What-if context key=value (repeatable), e.g. aws:SourceIp=…")
]
AssumeOpt = Annotated[
    AssumeUnknown, typer.Option("--assume-unknown", help="Conditions on unknown keys: keep (conditional), allow, deny")
]
RedactOpt = Annotated[bool, typer.Option("--redact", help="Replace account ids and names by stable pseudonyms")]
RedactKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--redact-key",
        envvar="IAMGRAPH_REDACT_KEY",
        help="Secret for the pseudonyms: the same key gives the same pseudonyms in every file (default: random)",
    ),
]
TermOpt = Annotated[
    list[str] | None,
    typer.Option("--redact-term", help="A further word to pseudonymise, e.g. a GitHub org (repeatable)"),
]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=1000, help="Answer items drawn at most (rest: N more)")]
DepthOpt = Annotated[int, typer.Option("--max-depth", min=1, max=20, help="Longest path considered, in hops")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Rebuild the graph instead of using the on-disk cache")]


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass(frozen=True, slots=True)
class WhatIfOptions:
    """The what-if options of the viz commands (review has none)."""

    context: ContextOpt = None
    assume_unknown: AssumeOpt = AssumeUnknown.KEEP


@dataclass(frozen=True, slots=True)
class VizOptions:
    """The options every viz command shares."""

    redact: RedactOpt = False
    redact_key: RedactKeyOpt = None
    redact_term: TermOpt = None
    no_cache: NoCacheOpt = False


def _write(data: Path, output: Path, query: dict[str, Any], what_if: WhatIfOptions, opts: VizOptions) -> None:
    """Build the view of ``query`` over ``data`` and write the standalone file; errors exit with status 2."""
    try:
        from ui.page import standalone_page
        from ui.redact import Redactor
        from ui.render import network
        from ui.view import ViewQuery, build_view
    except ImportError as exc:
        _err().print(f"iamgraph viz: needs the ui extra (pip install 'iamgraph[ui]'): {exc}", markup=False)
        raise typer.Exit(2) from None
    from iamgraph.store import load_analysis

    try:
        if not data.exists():
            raise InputError("no such file or directory", where=str(data))
        whatif = WhatIf(parse_context_pairs(what_if.context), what_if.assume_unknown)
        analysis = load_analysis(data, use_cache=not opts.no_cache)
        view = build_view(analysis, ViewQuery(whatif=whatif, **query), snapshot=data.resolve().name)
        if opts.redact:
            key = opts.redact_key.encode("utf-8") if opts.redact_key else None
            redactor = Redactor.for_analysis(analysis, key=key, terms=opts.redact_term or ())
            view = redactor.value({**view, "generated": {**view["generated"], "snapshot": None}})
            view["redacted"] = True
        html = standalone_page({"view": view, "network": network(view)})
    except IamGraphError as exc:
        _err().print(f"iamgraph: {exc}", markup=False)
        raise typer.Exit(2) from None
    if str(output) == "-":
        sys.stdout.write(html)
        return
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        _err().print(f"iamgraph viz: {output}: cannot write ({exc.strerror})", markup=False)
        raise typer.Exit(2) from None
    more = f", {len(view['more'])} cap(s): N more not drawn" if view["more"] else ""
    redacted = ", redacted" if view["redacted"] else ""
    _err().print(
        f"wrote {output} ({len(view['nodes'])} nodes, {len(view['edges'])} edges{more}{redacted}; "
        f"{os.path.getsize(output) // 1024} KiB, opens offline)",
        markup=False,
    )


_WHOLE_GRAPH = {
    "privesc": "Every non-admin principal that can reach admin, with its path; the admins listed.",
    "exposure": "What outside accounts, providers and anyone reach; risky trusts listed.",
}


def _register_whole_graph(viz: typer.Typer, kind: str, doc: str) -> None:
    """``viz privesc`` or ``viz exposure``: a query over the whole graph, with only its bounds as options."""

    @viz.command(kind, help=doc)
    @option_groups
    def command(
        data: DataOpt,
        output: OutOpt,
        max_depth: DepthOpt = 8,
        limit: LimitOpt = 100,
        *,
        what_if: WhatIfOptions,
        opts: VizOptions,
    ) -> None:
        _write(data, output, {"kind": kind, "max_depth": max_depth, "limit": limit}, what_if, opts)


def register(app: typer.Typer) -> None:
    viz = typer.Typer(
        help="Write a query's graph as one self-contained HTML file (evidence that opens offline).",
        no_args_is_help=True,
    )
    app.add_typer(viz, name="viz")

    @viz.command("who-can")
    @option_groups
    def viz_who_can(
        resource: Annotated[str, typer.Argument(help="Resource ARN or name")],
        data: DataOpt,
        output: OutOpt,
        action: Annotated[str | None, typer.Option("--action", help="e.g. s3:GetObject")] = None,
        access_level: Annotated[str | None, typer.Option("--access-level", help="List, Read, Write, ...")] = None,
        max_depth: DepthOpt = 8,
        limit: LimitOpt = 100,
        *,
        what_if: WhatIfOptions,
        opts: VizOptions,
    ) -> None:
        """Every principal that can act on RESOURCE, drawn from the principals (left) to the resource (right)."""
        query = {
            "kind": "who-can",
            "resource": resource,
            "action": action,
            "access_level": access_level,
            "max_depth": max_depth,
            "limit": limit,
        }
        _write(data, output, query, what_if, opts)

    @viz.command("path")
    @option_groups
    def viz_path(
        source: Annotated[str, typer.Argument()],
        target: Annotated[str, typer.Argument()],
        data: DataOpt,
        output: OutOpt,
        all_paths: Annotated[bool, typer.Option("--all", help="All simple paths within the bounds")] = False,
        max_depth: Annotated[int, typer.Option("--max-depth", min=1, max=20)] = 6,
        limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Most paths with --all")] = 20,
        *,
        what_if: WhatIfOptions,
        opts: VizOptions,
    ) -> None:
        """The shortest path from SOURCE to TARGET (or every simple path with --all)."""
        query = {
            "kind": "path",
            "source": source,
            "target": target,
            "all_paths": all_paths,
            "max_depth": max_depth,
            "limit": limit,
        }
        _write(data, output, query, what_if, opts)

    for kind, doc in _WHOLE_GRAPH.items():
        _register_whole_graph(viz, kind, doc)

    @viz.command("neighbourhood")
    @option_groups
    def viz_neighbourhood(
        node: Annotated[str, typer.Argument(help="Node ARN or name")],
        data: DataOpt,
        output: OutOpt,
        depth: Annotated[int, typer.Option("--depth", min=1, max=5)] = 1,
        limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Most nodes drawn")] = 200,
        *,
        what_if: WhatIfOptions,
        opts: VizOptions,
    ) -> None:
        """The nodes and edges around NODE."""
        query = {"kind": "neighbourhood", "node": node, "depth": depth, "limit": limit}
        _write(data, output, query, what_if, opts)

    @viz.command("review")
    @option_groups
    def viz_review(
        data: DataOpt,
        output: OutOpt,
        min_severity: Annotated[
            Severity | None, typer.Option("--min-severity", help="Leave out findings below this severity")
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of",
                help="Date ages are counted to (YYYY-MM-DD or ISO time; default: when the snapshot's newest "
                "credential report was generated)",
            ),
        ] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Findings listed at most")] = 1000,
        *,
        opts: VizOptions,
    ) -> None:
        """The best-practice review's findings (as `iamgraph review`); select one to draw its paths."""
        query = {
            "kind": "review",
            "min_severity": min_severity.value if min_severity else None,
            "as_of": as_of,
            "limit": limit,
        }
        _write(data, output, query, WhatIfOptions(), opts)
