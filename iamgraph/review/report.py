"""Running a review: every enabled check over one analysed snapshot, then suppressions, into one Report.

The report's JSON (``Report.to_json``) is what ``iamgraph review --json`` prints and ``GET /review``
answers; docs/review.md describes it field by field. SARIF and the readable report are made from it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries import Analysis, Deadline
from iamgraph.review.config import ReviewConfig
from iamgraph.review.context import ReviewContext
from iamgraph.review.dates import report_generated_as_of
from iamgraph.review.families.privilege import access_summary
from iamgraph.review.model import Check, Finding, NotAssessed, Severity
from iamgraph.review.registry import checks
from iamgraph.review.suppress import Outcome, Suppression, apply_suppressions

__all__ = ["SCHEMA", "Report", "review"]

SCHEMA = "iamgraph.review/1"
_MONITORING_TYPES = ("AWS::CloudTrail::Trail", "AWS::Config::ConfigurationRecorder")
_NO_AS_OF = (
    "no as-of time: no account.json of the snapshot records when its credential report was generated "
    "(credential_report_generated), so checks that count days (unused, rotation, recent root use) did not "
    "run; pass --as-of DATE"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    config: ReviewConfig
    checks: tuple[Check, ...]  # every registered check (``config.enabled`` says which ran)
    outcome: Outcome  # findings at or above min_severity, split by the suppressions
    below_min_severity: int
    not_assessed: tuple[NotAssessed, ...]
    access_summary: tuple[dict[str, Any], ...] | None
    snapshot: dict[str, Any]
    graph: dict[str, Any]
    out_of_scope: tuple[dict[str, Any], ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.outcome.active

    def failing(self, threshold: Severity) -> tuple[Finding, ...]:
        """Unsuppressed findings at or above ``threshold`` (what a pipeline gates on)."""
        return tuple(f for f in self.findings if f.severity.rank >= threshold.rank)

    def to_json(self) -> dict[str, Any]:
        from iamgraph import __version__

        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        o = self.outcome
        return {
            "schema": SCHEMA,
            "tool": {"name": "iamgraph", "version": __version__},
            "snapshot": self.snapshot,
            "as_of": {
                "time": self.config.as_of.isoformat() if self.config.as_of else None,
                "source": self.config.as_of_source if self.config.as_of else None,
                "note": None if self.config.as_of else _NO_AS_OF,
            },
            "summary": {
                "findings": len(self.findings),
                "by_severity": counts,
                "suppressed": len(o.suppressed),
                "below_min_severity": self.below_min_severity,
                **self.graph,
            },
            "findings": [{**f.to_json(), "suppression": None} for f in self.findings],
            "suppressed": [{**f.to_json(), "suppression": s.to_json()} for f, s in o.suppressed],
            "suppressions": {
                "checked_against": {
                    "date": o.reference.isoformat() if o.reference else None,
                    "source": o.reference_source,
                },
                "expired": [{**s.to_json(), "would_match": list(ids)} for s, ids in o.expired],
                "unused": [s.to_json() for s in o.unused],
            },
            "not_assessed": _grouped(self.not_assessed),
            "out_of_scope": list(self.out_of_scope),
            "access_summary": list(self.access_summary) if self.access_summary is not None else None,
            "config": self.config.to_json(),
            "checks": [{**c.to_json(), "enabled": self.config.enabled(c.id)} for c in self.checks],
        }


def _grouped(items: Iterable[NotAssessed]) -> list[dict[str, Any]]:
    """One entry per (account, reason) with the checks it stopped, in first-seen order."""
    groups: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for n in items:
        found = groups[(n.account, n.reason)]
        if n.check not in found:
            found.append(n.check)
    return [{"account": a, "reason": r, "checks": c} for (a, r), c in groups.items()]


def review(
    analysis: Analysis,
    config: ReviewConfig | None = None,
    suppressions: Iterable[Suppression] = (),
    *,
    today: date | None = None,
    deadline: Deadline | None = None,
) -> Report:
    """Run every enabled check. Without an as-of time in ``config``, ages are counted up to the newest
    credential-report generation time of the snapshot (named as the source). ``today`` (the caller's date)
    is used only to judge suppression expiry when the review has no as-of time; nothing here reads the clock."""
    config = _with_default_as_of(config or ReviewConfig(), analysis)
    registered = checks()
    order = {c.id: i for i, c in enumerate(registered)}
    ctx = ReviewContext(analysis, config, deadline=deadline)
    found: dict[str, Finding] = {}
    for check in registered:
        if not config.enabled(check.id):
            continue
        ctx.current = check
        for f in check.run(ctx):
            found.setdefault(f.id, f)
    ctx.current = None
    summary = tuple(access_summary(ctx)) if config.access_summary else None
    ranked = sorted(found.values(), key=lambda f: (-f.severity.rank, order[f.check], f.subject, f.key))
    shown = [f for f in ranked if f.severity.rank >= config.min_severity.rank]
    return Report(
        config=config,
        checks=registered,
        outcome=apply_suppressions(shown, suppressions, as_of=config.as_of, today=today),
        below_min_severity=len(ranked) - len(shown),
        not_assessed=tuple(ctx.not_assessed),
        access_summary=summary,
        snapshot=_snapshot(analysis),
        graph=_graph_counts(ctx),
        out_of_scope=(_monitoring(analysis), _WORKLOAD_SECRETS),
    )


def _with_default_as_of(config: ReviewConfig, analysis: Analysis) -> ReviewConfig:
    """An as-of time that was given wins; else the snapshot's own, when it records one."""
    if config.as_of is not None:
        return config
    found = report_generated_as_of(analysis.snapshot.accounts.values())
    if found is None:
        return config
    moment, source = found
    return replace(config, as_of=moment, as_of_source=source)


def _snapshot(analysis: Analysis) -> dict[str, Any]:
    s = analysis.snapshot
    org = s.organization
    return {
        "accounts": [{"id": a.id, "alias": a.alias} for a in s.accounts.values()],
        "organization": {"id": org.id, "management_account": org.management_account} if org else None,
        "warnings": list(s.warnings),  # gaps the snapshot itself reports (collection failures, inert statements)
    }


def _graph_counts(ctx: ReviewContext) -> dict[str, Any]:
    admins = [
        n for n, d in ctx.graph.nodes(data=True) if d.get("admin") and d.get("kind") in (NodeKind.USER, NodeKind.ROLE)
    ]
    return {"admins": len(admins), "escalations": len(ctx.privesc()["escalations"])}


_WORKLOAD_SECRETS: dict[str, Any] = {
    "area": "workload credentials",
    "topics": ["access keys on disks, in images, user data, parameter stores or secrets"],
    "statement": "Not assessed. A snapshot shows which workloads run with a role and what their recorded "
    "configuration holds, not files or secrets inside them; a workload without a role may still carry keys.",
    "seen_in_snapshot": [],
}


def _monitoring(analysis: Analysis) -> dict[str, Any]:
    seen = [
        {"arn": r.arn, "type": r.type}
        for a in analysis.snapshot.accounts.values()
        for r in a.resources.values()
        if r.type in _MONITORING_TYPES
    ]
    return {
        "area": "monitoring",
        "topics": ["AWS CloudTrail", "AWS Config"],
        "statement": "Not assessed. A snapshot holds IAM data and resource policies, not whether trails log "
        "every region and account, whether Config records, or whether anyone reads the logs. Review them "
        "with the services' own tools; resources.json entries below are listed as seen, not judged.",
        "seen_in_snapshot": seen,
    }
