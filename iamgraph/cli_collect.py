"""``iamgraph collect``: read AWS with boto3 into a snapshot directory (docs/collect.md).

Thin: options are checked by CollectOptions, the work is iamgraph.collect's. boto3 is imported only when
the command runs, so the rest of the CLI works without the ``collect`` extra.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from iamgraph.errors import IamGraphError

if TYPE_CHECKING:
    from iamgraph.collect import Collector

__all__ = ["register"]

EXIT_INTERRUPTED = 130
EXIT_NOTHING_READ = 1  # the collection ran but no account could be read: the directory is not a snapshot


def collect(
    out: Annotated[Path, typer.Option("--out", "-o", help="New snapshot directory (absent or empty)")],
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS profile; default: boto3's chain (environment, config, role)")
    ] = None,
    regions: Annotated[
        list[str] | None,
        typer.Option("--regions", help="Regions, comma-separated or repeated; default: those enabled per account"),
    ] = None,
    org: Annotated[
        bool, typer.Option("--org", help="Read the organization (roots, OUs, accounts, SCPs, RCPs) and its accounts")
    ] = False,
    assume_role: Annotated[
        str | None,
        typer.Option("--assume-role", metavar="NAME", help="Role (name or path/name) to assume in the other accounts"),
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Collect only this account (repeatable)")
    ] = None,
    parallel: Annotated[int, typer.Option("--parallel", help="Concurrent API calls, and accounts in flight")] = 8,
    retry_mode: Annotated[
        str, typer.Option("--retry-mode", help="boto3 retry mode: adaptive or standard")
    ] = "adaptive",
    max_attempts: Annotated[int, typer.Option("--max-attempts", help="Attempts per call, first one included")] = 10,
    timeout: Annotated[float, typer.Option("--timeout", help="Read timeout of one call, in seconds")] = 60.0,
    home_region: Annotated[
        str | None, typer.Option("--home-region", help="Region for IAM, STS and S3 listing (default: the profile's)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON line")] = False,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            envvar="IAMGRAPH_AWS_ENDPOINT_URL",
            hidden=True,
            help="Send every call to this endpoint (an AWS emulator for tests)",
        ),
    ] = None,
) -> None:
    """Read one account (or an organization with --org) with boto3 and write a snapshot directory."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        from iamgraph.collect import CollectOptions, Collector, parse_regions
    except ImportError as exc:
        err.print(f"iamgraph collect: needs the collect extra (pip install 'iamgraph[collect]'): {exc}", markup=False)
        raise typer.Exit(2) from None
    try:
        options = CollectOptions(
            profile=profile, regions=parse_regions(regions or ()), org=org, assume_role=assume_role,
            accounts=tuple(dict.fromkeys(account or ())), parallel=parallel, retry_mode=retry_mode,
            max_attempts=max_attempts, timeout=timeout, endpoint_url=endpoint_url, home_region=home_region,
        )  # fmt: skip
    except IamGraphError as exc:
        err.print(f"iamgraph collect: {exc}", markup=False)
        raise typer.Exit(2) from None
    bars = _Bars(err) if err.is_terminal else None
    collector = Collector(options, out, bars)
    report = _run(collector, bars, err)
    if json_out:
        sys.stdout.write(json.dumps(_json_summary(out, report)) + "\n")
    else:
        _print_summary(
            Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200), out, report
        )
    if report["interrupted"]:
        raise typer.Exit(EXIT_INTERRUPTED)
    if not report["summary"]["written"]:
        raise typer.Exit(EXIT_NOTHING_READ)


def _run(collector: Collector, bars: _Bars | None, err: Console) -> dict[str, Any]:
    try:
        if bars is None:
            return collector.run().to_json()
        with bars:
            return collector.run().to_json()
    except IamGraphError as exc:
        err.print(f"iamgraph collect: {exc}", markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        if collector.recorder.finished is None:
            err.print("iamgraph collect: interrupted before anything was written", markup=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        return collector.recorder.to_json()


class _Bars:
    """A progress bar per account on a terminal: tasks done of tasks known, the service being read."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (
            TextColumn("{task.fields[account]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
        )
        self._progress = Progress(*columns, console=console, transient=True)
        self._tasks: dict[str, Any] = {}
        self._totals: Counter[str] = Counter()

    def __enter__(self) -> _Bars:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def account_started(self, account: str, name: str | None) -> None:
        label = f"{account} {name}" if name else account
        self._tasks[account] = self._progress.add_task("starting", total=0, account=label)

    def tasks_added(self, account: str, count: int) -> None:
        self._totals[account] += count
        self._progress.update(self._tasks[account], total=self._totals[account])

    def task_started(self, account: str, label: str) -> None:
        self._progress.update(self._tasks[account], description=label)

    def task_done(self, account: str) -> None:
        self._progress.advance(self._tasks[account])

    def account_done(self, account: str, status: str) -> None:
        self._progress.update(self._tasks[account], description=status)

    def refresh(self) -> None:
        self._progress.refresh()


def _failure_groups(report: dict[str, Any]) -> list[tuple[tuple[str, ...], int]]:
    """Failures grouped by account, region, service, kind, code and what is unreadable."""
    groups: Counter[tuple[str, ...]] = Counter()
    for f in report["failures"]:
        key = (f["account"], f["region"] or "-", f["service"], f["kind"], _code(f), f["unreadable"])
        groups[key] += 1
    return sorted(groups.items())


def _code(failure: dict[str, Any]) -> str:
    code, operation = failure.get("code"), failure.get("operation")
    if code and operation:
        return f"{code} ({operation})"
    return str(code or operation or "-")


def _print_summary(out: Console, path: Path, report: dict[str, Any]) -> None:
    from rich.table import Table

    s = report["summary"]
    regions = sorted({r for a in report["accounts"] for r in a["regions"]})
    state = "INTERRUPTED: partial snapshot (marked incomplete)" if report["interrupted"] else "snapshot"
    out.print(
        f"{state} written to {path}: {s['written']} of {s['accounts']} account(s), {len(regions)} region(s), "
        f"{s['resources']} resource(s); {s['calls']} calls ({s['retried']} retried), {s['failures']} failure(s)",
        markup=False,
    )
    missing = [a for a in report["accounts"] if not a["written"]]
    for a in missing:
        name = f" ({a['name']})" if a["name"] else ""
        out.print(f"not collected: account {a['id']}{name}: {a['status']}, {a['reason'] or '-'}", markup=False)
    groups = _failure_groups(report)
    if not groups:
        return
    table = Table(title="not readable (see collection-report.json)", title_justify="left")
    for column in ("account", "region", "service", "kind", "error", "what", "count"):
        table.add_column(column, justify="right" if column == "count" else "left", overflow="fold")
    for key, count in groups:
        table.add_row(*key, str(count))
    out.print(table)


def _json_summary(path: Path, report: dict[str, Any]) -> dict[str, Any]:
    return {
        "out": str(path),
        "complete": report["complete"],
        "interrupted": report["interrupted"],
        "summary": report["summary"],
        "accounts": report["accounts"],
        "failures": [dict(zip(("account", "region", "service", "kind", "error", "unreadable"), key, strict=True))
                     | {"count": count} for key, count in _failure_groups(report)],
    }  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("collect")(collect)
