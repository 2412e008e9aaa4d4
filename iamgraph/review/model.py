"""What a review produces: severities, checks, findings with their evidence, and what was not assessed.

A finding is data, like a decision: the check that raised it, a severity, a one-line title, the subject
(the node or policy it is about), evidence a reader or a UI can open (graph node ids, statements with
policy and Sid, paths as the who-can/privesc hops) and a remediation hint. ``id`` is stable between
runs of the same snapshot, so that suppressions and CI systems can follow a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from iamgraph.errors import InputError

if TYPE_CHECKING:
    from iamgraph.review.context import ReviewContext

__all__ = ["Check", "Evidence", "Finding", "NotAssessed", "Severity"]


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info: higher is worse."""
        return len(_ORDER) - 1 - _ORDER.index(self)

    def lowered(self, steps: int = 1) -> Severity:
        """One (or more) steps less severe, never below low (info stays for purely informative checks)."""
        if self is Severity.INFO:
            return self
        return _ORDER[min(_ORDER.index(self) + steps, _ORDER.index(Severity.LOW))]

    @classmethod
    def parse(cls, value: object, *, element: str, where: str = "") -> Severity:
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        names = ", ".join(s.value for s in cls)
        raise InputError(f'"{value}" is not a severity ({names})', where=where, element=element)


_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What backs a finding. ``principals`` and ``resources`` are node ids of the access graph (the UI
    opens them); ``statements`` are statement references (layer, policy, sid, index, effect);
    ``paths`` are ``{"conditional", "hops"}`` with hops exactly as who-can and privesc print them."""

    principals: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    statements: tuple[Mapping[str, Any], ...] = ()
    paths: tuple[Mapping[str, Any], ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "principals": list(self.principals),
            "resources": list(self.resources),
            "statements": [dict(s) for s in self.statements],
            "paths": [dict(p) for p in self.paths],
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    check: str
    family: str
    severity: Severity
    title: str
    subject: str
    account: str | None
    file: str | None  # the snapshot file the finding comes from, relative to the snapshot directory
    evidence: Evidence
    remediation: str
    key: str = ""  # tells apart several findings of one check on one subject (e.g. "key1", a trusted account)

    @property
    def id(self) -> str:
        return f"{self.check}:{self.subject}" + (f"#{self.key}" if self.key else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check": self.check,
            "family": self.family,
            "severity": self.severity.value,
            "title": self.title,
            "subject": self.subject,
            "account": self.account,
            "file": self.file,
            "evidence": self.evidence.to_json(),
            "remediation": self.remediation,
        }


CheckRun = Callable[["ReviewContext"], Iterable[Finding]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """A registered best-practice check: metadata (for reports, SARIF rules and the UI) and ``run``."""

    id: str
    family: str
    severity: Severity  # the usual severity; a finding may be raised or lowered by what the graph shows
    title: str
    description: str
    remediation: str
    reads: str  # the snapshot data the check needs, e.g. "credential report"
    run: CheckRun = field(repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "family": self.family,
            "severity": self.severity.value,
            "title": self.title,
            "description": self.description,
            "remediation": self.remediation,
            "reads": self.reads,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class NotAssessed:
    """A check that could not look at (part of) the estate, and why (missing file, no as-of time, ...)."""

    check: str
    reason: str
    account: str | None = None
