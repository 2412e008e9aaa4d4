"""What every check reads: the analysed snapshot, the settings, the as-of time, and shared, memoised answers
of the query layer (privesc, access levels), plus the one way to make a finding."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.queries import Analysis, Deadline, access_levels, privesc
from iamgraph.graph.queries.base import hop_json
from iamgraph.graph.queries.budget import check as check_deadline
from iamgraph.model.snapshot import Account
from iamgraph.review.config import ReviewConfig
from iamgraph.review.model import Check, Evidence, Finding, NotAssessed, Severity

__all__ = ["AUTHORIZATION", "CREDENTIALS", "INFO", "RESOURCES", "ReviewContext"]

AUTHORIZATION = "authorization-details.json"
RESOURCES = "resources.json"
CREDENTIALS = "credential-report.csv"
INFO = "account.json"


class ReviewContext:
    """One review run. Checks call :meth:`finding` while ``current`` names the check that runs."""

    def __init__(self, analysis: Analysis, config: ReviewConfig, *, deadline: Deadline | None = None) -> None:
        self.analysis = analysis
        self.snapshot = analysis.snapshot
        self.estate = analysis.estate
        self.graph = analysis.graph.graph
        self.config = config
        self.as_of = config.as_of
        self.deadline = deadline
        self.current: Check | None = None
        self.not_assessed: list[NotAssessed] = []
        self._privesc: dict[str, Any] | None = None
        self._escalations: dict[str, dict[str, Any]] | None = None
        self._access: dict[str, dict[str, Any]] = {}
        self.memo: dict[tuple[object, ...], Any] = {}  # answers several checks share (e.g. a trust evaluation)

    # ---- making findings ---------------------------------------------------------------------
    def finding(
        self,
        *,
        subject: str,
        title: str,
        severity: Severity | None = None,
        account: str | None = None,
        file: str | None = None,
        principals: Iterable[str] = (),
        resources: Iterable[str] = (),
        statements: Iterable[Mapping[str, Any]] = (),
        paths: Iterable[Mapping[str, Any]] = (),
        details: Mapping[str, Any] | None = None,
        remediation: str | None = None,
        key: str = "",
    ) -> Finding:
        """A finding of the running check. Principals and resources that are not graph nodes (a blocked
        outside account, an S3 object pattern) are listed under ``details.outside_graph`` instead."""
        check = self.current
        assert check is not None, "finding() outside a check"
        more = dict(details or {})
        nodes: dict[str, list[str]] = {"principals": [], "resources": []}
        outside: list[str] = []
        for name, ids in (("principals", principals), ("resources", resources)):
            for node in ids:
                target = nodes[name] if node in self.graph else outside
                if node not in target:
                    target.append(node)
        if outside:
            more["outside_graph"] = outside
        level = self.config.severity.get(check.id, severity or check.severity)
        return Finding(
            check=check.id,
            family=check.family,
            severity=level,
            title=title,
            subject=subject,
            account=account,
            file=file,
            evidence=Evidence(
                principals=tuple(nodes["principals"]),
                resources=tuple(nodes["resources"]),
                statements=tuple(_unique(statements)),
                paths=tuple(paths),
                details=more,
            ),
            remediation=remediation or check.remediation,
            key=key,
        )

    def skip(self, reason: str, *, account: str | None = None) -> None:
        """Record that the running check could not assess (part of) the estate."""
        assert self.current is not None
        self.not_assessed.append(NotAssessed(check=self.current.id, reason=reason, account=account))

    def tick(self) -> None:
        check_deadline(self.deadline)

    # ---- the estate --------------------------------------------------------------------------
    def accounts(self) -> Iterable[Account]:
        return self.snapshot.accounts.values()

    @staticmethod
    def file(account: str, name: str) -> str:
        return f"accounts/{account}/{name}"

    def in_organization(self, account: str) -> bool | None:
        """Whether an account is a member of the snapshot's organization (None: no organization data)."""
        org = self.snapshot.organization
        return None if org is None else account in org.accounts

    def outside(self, account: str) -> bool:
        """Outside the organization, or outside the snapshot when the snapshot has no organization."""
        member = self.in_organization(account)
        return account not in self.snapshot.accounts if member is None else not member

    def label(self, node: str) -> str:
        """A short readable name of a node (its graph name, else the id)."""
        if node in self.graph:
            name = self.graph.nodes[node].get("name")
            if name:
                return str(name)
        return node

    def is_admin(self, node: str) -> bool:
        return node in self.graph and bool(self.graph.nodes[node].get("admin"))

    # ---- answers of the query layer ----------------------------------------------------------
    def privesc(self) -> dict[str, Any]:
        if self._privesc is None:
            self._privesc = privesc(self.analysis, deadline=self.deadline)
            self._escalations = {e["principal"]: e for e in self._privesc["escalations"]}
        return self._privesc

    def escalation(self, node: str) -> dict[str, Any] | None:
        """The privesc answer for a non-admin node that can reach admin: ``{principal, conditional, path}``."""
        self.privesc()
        assert self._escalations is not None
        return self._escalations.get(node)

    def admin_reach(self, node: str) -> tuple[str | None, list[dict[str, Any]]]:
        """``("admin", [])`` for an admin, ``("escalates", [path])`` for a node that can reach admin (the
        privesc path), ``(None, [])`` otherwise: how the graph raises the stakes of a finding."""
        if self.is_admin(node):
            return "admin", []
        esc = self.escalation(node)
        if esc is None:
            return None, []
        return "escalates", [{"conditional": esc["conditional"], "hops": esc["path"]}]

    def access_levels(self, arn: str) -> dict[str, Any]:
        found = self._access.get(arn)
        if found is None:
            found = access_levels(self.analysis, arn, deadline=self.deadline)
            self._access[arn] = found
        return found

    def hops(self, source: str, target: str, kind: EdgeKind | None = None) -> list[dict[str, Any]]:
        """One path item per graph edge from ``source`` to ``target`` (of ``kind``), as privesc prints hops."""
        if source not in self.graph or target not in self.graph:
            return []
        edges: list[DerivedEdge] = self.analysis.graph.edges_between(source, target)
        return [
            {"conditional": e.conditional, "hops": [hop_json(e, e.conditions)]}
            for e in edges
            if kind is None or e.kind is kind
        ]


def _unique(statements: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    out: list[Mapping[str, Any]] = []
    for s in statements:
        key = (s.get("layer"), s.get("policy"), s.get("index"), s.get("level"))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
