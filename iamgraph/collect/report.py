"""collection-report.json: every call the collector made and everything it could not read.

Pure bookkeeping (no boto3): the collector records into a :class:`Recorder` from many threads; the
report is written at the start (marked unfinished), after each account and at the end, so that a
snapshot directory always says whether its collection finished.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "FORMAT",
    "AccountEntry",
    "AccountStatus",
    "CallRecord",
    "Failure",
    "FailureKind",
    "Note",
    "Outcome",
    "Recorder",
    "utc_now",
]

FORMAT = "iamgraph-collection-report/1"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Outcome(StrEnum):
    OK = "ok"  # answered
    ABSENT = "absent"  # answered "there is none" (no bucket policy, no password policy, ...)
    FAILED = "failed"  # see the matching Failure


class FailureKind(StrEnum):
    ACCESS_DENIED = "access-denied"
    THROTTLED = "throttled"  # still throttled after every retry
    REGION_UNAVAILABLE = "region-unavailable"  # region not enabled, endpoint unreachable
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"  # Ctrl-C before this part was read
    ERROR = "error"  # any other error, our own bugs included


class AccountStatus(StrEnum):
    PENDING = "pending"
    COMPLETE = "complete"  # every call answered
    PARTIAL = "partial"  # written, but some parts were not readable (see failures)
    FAILED = "failed"  # not written: no session or no authorization details
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"  # not collected on purpose (suspended, no --assume-role, not selected)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """One API operation invocation; a paginated listing is one record with its page count."""

    account: str
    region: str | None
    service: str
    operation: str
    target: str | None
    outcome: Outcome
    code: str | None
    attempts: int
    pages: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "service": self.service,
            "operation": self.operation,
            "target": self.target,
            "outcome": str(self.outcome),
            "code": self.code,
            "attempts": self.attempts,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """Something that was not read; ``unreadable`` says what the snapshot lacks because of it."""

    account: str
    region: str | None
    service: str
    operation: str | None
    target: str | None
    kind: FailureKind
    code: str | None
    message: str
    unreadable: str

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "service": self.service,
            "operation": self.operation,
            "target": self.target,
            "kind": str(self.kind),
            "code": self.code,
            "message": self.message,
            "unreadable": self.unreadable,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """Informational: a choice the collector made (skipped account, dropped dangling role reference)."""

    account: str | None
    region: str | None
    service: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "region": self.region, "service": self.service, "message": self.message}


@dataclass(slots=True, kw_only=True)
class AccountEntry:
    id: str
    name: str | None = None
    access: str | None = None  # "caller" or "assume-role"
    status: AccountStatus = AccountStatus.PENDING
    reason: str | None = None
    regions: list[str] = field(default_factory=list)
    resources: int = 0
    written: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "access": self.access,
            "status": str(self.status),
            "reason": self.reason,
            "regions": sorted(self.regions),
            "resources": self.resources,
            "written": self.written,
        }


class Recorder:
    """Thread-safe sink for calls, failures and notes; renders the report document."""

    def __init__(self, *, version: str, options: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self.version = version
        self.options = options
        self.started = utc_now()
        self.finished: str | None = None
        self.interrupted = False
        self.caller: dict[str, str] = {}
        self.organization: str | None = None  # None: not asked; else collected | partial | failed
        self.accounts: dict[str, AccountEntry] = {}
        self.calls: list[CallRecord] = []
        self.failures: list[Failure] = []
        self.notes: list[Note] = []

    def call(self, record: CallRecord) -> None:
        with self._lock:
            self.calls.append(record)

    def fail(self, failure: Failure) -> None:
        with self._lock:
            self.failures.append(failure)

    def note(self, account: str | None, region: str | None, service: str | None, message: str) -> None:
        with self._lock:
            self.notes.append(Note(account=account, region=region, service=service, message=message))

    def account(self, account_id: str) -> AccountEntry:
        with self._lock:
            return self.accounts.setdefault(account_id, AccountEntry(id=account_id))

    def failures_of(self, account_id: str) -> list[Failure]:
        with self._lock:
            return [f for f in self.failures if f.account == account_id]

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            calls = [c.to_json() for c in self.calls]
            failures = [f.to_json() for f in self.failures]
            notes = [n.to_json() for n in self.notes]
            accounts = [a.to_json() for a in sorted(self.accounts.values(), key=lambda a: a.id)]
            retried = sum(1 for c in self.calls if c.attempts > 1)
        return {
            "format": FORMAT,
            "iamgraph_version": self.version,
            "started": self.started,
            "finished": self.finished,
            "complete": self.finished is not None and not self.interrupted,
            "interrupted": self.interrupted,
            "caller": dict(self.caller),
            "options": dict(self.options),
            "organization": self.organization,
            "accounts": accounts,
            "summary": {
                "accounts": len(accounts),
                "written": sum(1 for a in accounts if a["written"]),
                "resources": sum(a["resources"] for a in accounts),
                "calls": len(calls),
                "retried": retried,
                "failures": len(failures),
            },
            "failures": failures,
            "notes": notes,
            "calls": calls,
        }
