"""``iamgraph review``: the best-practice review on the command line (docs/review.md).

Reads the config and suppression files and the clock (for ``--as-of now`` and suppression expiry) and
hands the core data (without an as-of time the core counts ages up to when the snapshot's credential
reports were generated); prints a readable report grouped by severity, the report JSON, or SARIF; exits 1
when an unsuppressed finding is at or above ``--fail-on``, 2 on bad input.
"""

from __future__ import annotations

import json
import sys
import tomllib
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from iamgraph.conditions_text import conditions_text
from iamgraph.errors import IamGraphError, InputError
from iamgraph.review import ReviewConfig, Severity, Suppression, checks, parse_suppressions, review
from iamgraph.review.dates import parse_as_of

__all__ = ["register"]


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


class FailOn(StrEnum):
    NONE = "none"
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def read_document(path: Path) -> Any:
    """A TOML file, or JSON when the name ends in .json."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", where=where) from None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(
            f"not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'} ({exc})", where=where
        ) from None


def build_config(config_file: Path | None, *, as_of: str | None, now: datetime, **flags: Any) -> ReviewConfig:
    """The config file's settings with the command-line flags over them."""
    config = (
        ReviewConfig.from_mapping(read_document(config_file), where=str(config_file)) if config_file else ReviewConfig()
    )
    if as_of is not None:
        if as_of.strip().lower() == "now":
            flags.update(as_of=now, as_of_source="wall clock (--as-of now)")
        else:
            flags.update(as_of=parse_as_of(as_of, element="--as-of"), as_of_source="--as-of")
    return config.with_overrides(**flags)


def _suppressions(path: Path | None) -> tuple[Suppression, ...]:
    return parse_suppressions(read_document(path), where=str(path)) if path else ()


def _base_uri(data: Path) -> tuple[str | None, str | None]:
    """(SARIF base of the snapshot directory, the single file of a bare snapshot)."""
    folder = data.parent if data.is_file() else data
    single = data.name if data.is_file() else None
    if folder.is_absolute():
        return folder.as_uri() + "/", single
    text = folder.as_posix()
    return ("" if text == "." else text.rstrip("/") + "/"), single


def register(app: typer.Typer) -> None:
    @app.command("review")
    def review_cmd(
        data: Annotated[
            Path | None, typer.Option("--data", envvar="IAMGRAPH_DATA", help="Snapshot directory (env IAMGRAPH_DATA)")
        ] = None,
        fmt: Annotated[
            Format, typer.Option("--format", help="text (grouped by severity), json or sarif")
        ] = Format.TEXT,
        json_out: Annotated[bool, typer.Option("--json", help="Same as --format json")] = False,
        output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the report to a file")] = None,
        config_file: Annotated[Path | None, typer.Option("--config", help="Settings file (TOML, or .json)")] = None,
        suppressions: Annotated[
            Path | None, typer.Option("--suppressions", help="Accepted findings with reasons (TOML, or .json)")
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of",
                help="Date ages are counted to (YYYY-MM-DD, ISO time, or now; default: when the snapshot's "
                "newest credential report was generated)",
            ),
        ] = None,
        fail_on: Annotated[
            FailOn, typer.Option("--fail-on", help="Exit 1 when an unsuppressed finding is at least this severe")
        ] = FailOn.NONE,
        check: Annotated[list[str] | None, typer.Option("--check", help="Run only this check (repeatable)")] = None,
        skip: Annotated[list[str] | None, typer.Option("--skip", help="Do not run this check (repeatable)")] = None,
        min_severity: Annotated[
            Severity | None, typer.Option("--min-severity", help="Leave out findings below this severity")
        ] = None,
        unused_days: Annotated[int | None, typer.Option("--unused-days", min=1, help="Default 90")] = None,
        rotation_days: Annotated[int | None, typer.Option("--rotation-days", min=1, help="Default 90")] = None,
        root_recent_days: Annotated[int | None, typer.Option("--root-recent-days", min=1, help="Default 90")] = None,
        no_access_summary: Annotated[
            bool, typer.Option("--no-access-summary", help="Skip the per-principal access summary (faster)")
        ] = False,
        no_cache: Annotated[
            bool, typer.Option("--no-cache", help="Rebuild the graph instead of using the cache")
        ] = False,
        list_checks: Annotated[bool, typer.Option("--list-checks", help="List the checks and exit")] = False,
    ) -> None:
        """IAM best-practice review of a snapshot, backed by the graph: findings with evidence and fixes."""
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        if list_checks:
            _print_checks()
            return
        now = datetime.now(UTC)
        try:
            if data is None:
                raise InputError("a snapshot directory is needed (--data or IAMGRAPH_DATA)", element="--data")
            if not data.exists():
                raise InputError("no such file or directory", where=str(data))
            config = build_config(
                config_file,
                as_of=as_of,
                now=now,
                only=frozenset(check) if check else None,
                skip=frozenset(skip) if skip else None,
                min_severity=min_severity,
                unused_days=unused_days,
                rotation_days=rotation_days,
                root_recent_days=root_recent_days,
                access_summary=False if no_access_summary else None,
            )
            rules = _suppressions(suppressions)
            analysis = _analysis(data, no_cache, err)
            report = review(analysis, config, rules, today=now.date())
        except IamGraphError as exc:
            err.print(f"iamgraph: {exc}", markup=False)
            raise typer.Exit(2) from None
        doc = report.to_json()
        chosen = Format.JSON if json_out else fmt
        _emit(doc, chosen, output, data, now.date())
        if fail_on is not FailOn.NONE and report.failing(Severity(fail_on.value)):
            n = len(report.failing(Severity(fail_on.value)))
            err.print(f"iamgraph review: {n} finding(s) at or above {fail_on.value}", markup=False)
            raise typer.Exit(1)


def _analysis(data: Path, no_cache: bool, err: Console) -> Any:
    from iamgraph.store import load_analysis

    if err.is_terminal:
        with err.status("loading snapshot and building the graph"):
            return load_analysis(data, use_cache=not no_cache)
    return load_analysis(data, use_cache=not no_cache)


def _emit(doc: dict[str, Any], fmt: Format, output: Path | None, data: Path, today: date) -> None:
    if fmt is Format.TEXT:
        if output is None:
            render(Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160), doc)
            return
        with output.open("w", encoding="utf-8") as fh:
            render(Console(file=fh, highlight=False, soft_wrap=True, width=160, color_system=None), doc)
        return
    if fmt is Format.SARIF:
        from iamgraph.export.sarif import to_sarif

        base, single = _base_uri(data)
        doc = to_sarif(doc, base_uri=base, single_file=single)
    text = json.dumps(doc, indent=None if fmt is Format.JSON else 2, default=str) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


# ---- the readable report (every name from the estate is plain Text: never parsed as markup) ----------


def render(out: Console, doc: dict[str, Any]) -> None:
    _header(out, doc)
    by_level: dict[str, list[dict[str, Any]]] = {s.value: [] for s in Severity}
    for f in doc["findings"]:
        by_level[f["severity"]].append(f)
    for level, items in by_level.items():
        if not items:
            continue
        out.print(Text(f"\n{level.upper()} ({len(items)})", style=_STYLE[level]))
        for f in items:
            _finding(out, f, compact=level == "info")
    _tail(out, doc)


def _header(out: Console, doc: dict[str, Any]) -> None:
    snap, summary, as_of = doc["snapshot"], doc["summary"], doc["as_of"]
    org = snap["organization"]
    line = Text("iamgraph review", style="bold")
    line.append(
        f"  {len(snap['accounts'])} account(s)" + (f", organization {org['id'] or '(id unknown)'}" if org else "")
    )
    line.append(f", as of {as_of['time']}, from {as_of['source']}" if as_of["time"] else ", no as-of time")
    out.print(line)
    counts = ", ".join(f"{n} {level}" for level, n in summary["by_severity"].items() if n)
    out.print(
        Text(
            f"{summary['findings']} finding(s): {counts or 'none'}; {summary['suppressed']} suppressed; "
            f"{summary['admins']} admin principal(s), {summary['escalations']} escalation path(s)"
        )
    )
    if as_of["note"]:
        out.print(Text(as_of["note"], style="yellow"))


def _finding(out: Console, f: dict[str, Any], *, compact: bool) -> None:
    line = Text("  ")
    line.append(f["check"], style=_STYLE[f["severity"]])
    line.append(f"  {f['title']}")
    out.print(line)
    if compact:
        return
    ev = f["evidence"]
    out.print(Text(f"      subject: {f['subject']}", style="dim"))
    own = [st for st in ev["statements"] if st.get("layer") not in ("scp", "rcp")]
    labels = list(dict.fromkeys(f"{st.get('policy')} {_label(st)} ({st.get('layer')})" for st in own))
    for label in labels[:4]:
        out.print(Text(f"      statement: {label}", style="dim"))
    more = len(labels) - 4 if len(labels) > 4 else 0
    org = len(ev["statements"]) - len(own)
    if more or org:
        extra = [f"{more} more statement(s)"] if more else []
        extra += [f"{org} organization policy statement(s)"] if org else []
        out.print(Text(f"      ... and {', '.join(extra)}", style="dim"))
    for path in ev["paths"][:2]:
        hops = " ".join(f"--[{h['technique']}]--> {h['target']}" for h in path["hops"])
        start = path["hops"][0]["source"] if path["hops"] else ""
        flag = " (conditional)" if path["conditional"] else ""
        out.print(Text(f"      path: {start} {hops}{flag}", style="dim"))
    out.print(Text(f"      fix: {f['remediation']}", style="green"))


def _label(st: dict[str, Any]) -> str:
    return str(st.get("sid") or f"Statement[{st.get('index')}]")


def _tail(out: Console, doc: dict[str, Any]) -> None:
    sup = doc["suppressions"]
    if doc["suppressed"]:
        out.print(Text(f"\nSUPPRESSED ({len(doc['suppressed'])})", style="bold"))
        for f in doc["suppressed"]:
            out.print(Text(f"  {f['id']}: {f['suppression']['reason']}"))
    for s in sup["expired"]:
        out.print(
            Text(
                f"suppression {s['index']} expired on {s['expires']} ({s['reason']}); "
                f"its findings are reported again: {len(s['would_match'])}",
                style="yellow",
            )
        )
    for s in sup["unused"]:
        what = s.get("id") or f"{s.get('check')} {s.get('subject') or ''}".strip()
        out.print(Text(f"suppression {s['index']} matched nothing: {what} ({s['reason']})", style="yellow"))
    if doc["not_assessed"]:
        out.print(Text("\nNOT ASSESSED", style="bold"))
        for n in doc["not_assessed"]:
            where = f"{n['account']}: " if n["account"] else ""
            out.print(Text(f"  {where}{n['reason']} ({', '.join(n['checks'])})"))
    out.print(Text("\nOUT OF SCOPE", style="bold"))
    for item in doc["out_of_scope"]:
        out.print(Text(f"  {item['area']} ({', '.join(item['topics'])}): {item['statement']}"))
        for seen in item["seen_in_snapshot"]:
            out.print(Text(f"    seen: {seen['type']} {seen['arn']}", style="dim"))
    if doc["access_summary"]:
        _access_table(out, doc["access_summary"])


def _access_table(out: Console, rows: list[dict[str, Any]]) -> None:
    levels = ("List", "Read", "Write", "Permissions management", "Tagging")
    table = Table(title="access summary (actions allowed or conditional)", title_justify="left")
    table.add_column("principal")
    for level in levels:
        table.add_column(level, justify="right")
    for r in rows:
        if r["admin"]:
            conditions = r.get("admin_conditions")
            cells = ["every action" + (f" (if {conditions_text(conditions)})" if conditions else "")] + [""] * 4
        else:
            cells = [str(r["totals"].get(lv, 0)) for lv in levels]
        table.add_row(Text(r["principal"]), *(Text(c) for c in cells))
    out.print(table)


def _print_checks() -> None:
    out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
    table = Table(title="review checks", title_justify="left")
    table.add_column("check", no_wrap=True)
    for name in ("severity", "family", "title", "reads"):
        table.add_column(name)
    for c in checks():
        table.add_row(
            Text(c.id),
            Text(c.severity.value, style=_STYLE[c.severity.value]),
            Text(c.family),
            Text(c.title),
            Text(c.reads),
        )
    out.print(table)
