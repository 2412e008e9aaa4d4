"""collection-report.json (written by ``iamgraph collect``): what the collection could not read.

Ingest does not need the report to build a graph; it turns it into warnings so that every surface can
say "SQS queue policies in eu-west-1 were not readable" instead of silently showing fewer paths. Our
format, so closed where ingest reads it: the top level, the accounts and the failures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from iamgraph.ingest.reader import Loc, array, check_keys, member, opt_string, string

__all__ = ["FORMAT", "read_collection_report"]

FORMAT = "iamgraph-collection-report/1"
_TOP_KEYS = (
    "format", "iamgraph_version", "started", "finished", "complete", "interrupted", "caller", "options",
    "organization", "accounts", "summary", "failures", "notes", "calls",
)  # fmt: skip
_ACCOUNT_KEYS = ("id", "name", "access", "status", "reason", "regions", "resources", "written")
_FAILURE_KEYS = ("account", "region", "service", "operation", "target", "kind", "code", "message", "unreadable")
_KINDS = ("access-denied", "throttled", "region-unavailable", "timeout", "interrupted", "error")


def read_collection_report(doc: Any, *, where: str) -> tuple[str, ...]:
    """One warning per gap: an unfinished collection, each account left out, each group of failures."""
    loc = Loc(where)
    top = loc.obj(doc)
    check_keys(top, loc, _TOP_KEYS)
    if member(top, "format", loc) != FORMAT:
        raise loc.at("format").error(f'unknown report format (expected "{FORMAT}")')
    warnings: list[str] = []
    complete = _bool(top, "complete", loc)
    if not complete:
        how = "was interrupted" if _bool(top, "interrupted", loc) else "did not finish"
        warnings.append(f"{where}: the collection {how}: accounts, services or regions may be missing")
    if top.get("organization") == "partial":
        warnings.append(f"{where}: organization.json lacks policies that were not readable (see failures)")
    for index, raw in enumerate(array(top, "accounts", loc, required=True)):
        warnings.extend(_account(raw, loc.at("accounts").at(index), where))
    groups: Counter[str] = Counter()
    for index, raw in enumerate(array(top, "failures", loc, required=True)):
        groups[_failure(raw, loc.at("failures").at(index))] += 1
    warnings.extend(f"{where}: {text}" + (f" ({n} times)" if n > 1 else "") for text, n in groups.items())
    return tuple(warnings)


def _bool(obj: Mapping[str, Any], key: str, loc: Loc) -> bool:
    value = member(obj, key, loc)
    if not isinstance(value, bool):
        raise loc.at(key).error("must be true or false")
    return value


def _account(raw: Any, loc: Loc, where: str) -> list[str]:
    account = loc.obj(raw)
    check_keys(account, loc, _ACCOUNT_KEYS)
    account_id = string(account, "id", loc)
    status = string(account, "status", loc)
    if _bool(account, "written", loc):
        return []
    name = opt_string(account, "name", loc)
    reason = opt_string(account, "reason", loc)
    label = f"account {account_id}" + (f" ({name})" if name else "")
    return [f"{where}: {label} is not in the snapshot: {status}" + (f", {reason}" if reason else "")]


def _failure(raw: Any, loc: Loc) -> str:
    failure = loc.obj(raw)
    check_keys(failure, loc, _FAILURE_KEYS)
    kind = string(failure, "kind", loc)
    if kind not in _KINDS:
        raise loc.at("kind").error(f'"{kind}" is not one of {", ".join(_KINDS)}')
    account = string(failure, "account", loc)
    service = string(failure, "service", loc)
    region = opt_string(failure, "region", loc)
    unreadable = string(failure, "unreadable", loc)
    code = opt_string(failure, "code", loc)
    operation = opt_string(failure, "operation", loc)
    place = f"account {account}" + (f" {region}" if region else "") + f" {service}"
    cause = kind + (f": {code}" if code else "") + (f" on {operation}" if operation else "")
    return f"{place}: not read: {unreadable} ({cause})"
