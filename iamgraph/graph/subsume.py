"""Edges that add nothing beyond their source's admin mark, decided by implication between conditions.

A principal that is admin in its account reaches everything there, so an escalation edge from it inside
that account matters only where the edge is usable while the principal is *not* admin. Unconditional
admins are skipped by the techniques; for an admin under conditions C (MFA, source IP) an edge with
conditions E is dropped exactly when E implies C. The check is exact over the expressions' atoms and
bounded: an expression with too many atoms keeps its edge (the safe side: an edge too many, never one
lost).
"""

from __future__ import annotations

from collections.abc import Mapping

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.admin import AdminVerdict
from iamgraph.graph.estate import Estate
from iamgraph.policy.logic import Atom, Expr, atoms, substitute

__all__ = ["AdminSubsumption", "implies"]

MAX_ATOMS = 10
_KINDS = (EdgeKind.ESCALATE, EdgeKind.GRANT)  # a tuple compares identities; ``EdgeKind.X`` is a slow lookup
Assignment = Mapping[Atom, bool]


def _assignments(names: list[Atom]) -> list[dict[Atom, bool]]:
    return [{a: bool(bits >> i & 1) for i, a in enumerate(names)} for bits in range(1 << len(names))]


def _apply(x: Expr, value: Assignment) -> Expr:
    return substitute(x, lambda a: value.get(a, a))


def _satisfiable(x: Expr) -> bool:
    """Is there an assignment of the atoms making ``x`` true? (True when too large to tell.)"""
    if isinstance(x, bool):
        return x
    names = list(dict.fromkeys(atoms(x)))
    if len(names) > MAX_ATOMS:
        return True
    return any(_apply(x, v) is True for v in _assignments(names))


def falsifiers(conclusion: Expr) -> list[dict[Atom, bool]] | None:
    """The assignments of the conclusion's atoms under which it is not true (None: too many atoms)."""
    names = list(dict.fromkeys(atoms(conclusion)))
    if len(names) > MAX_ATOMS:
        return None
    return [v for v in _assignments(names) if _apply(conclusion, v) is not True]


def implies(premise: Expr, conclusion: Expr, *, cases: list[dict[Atom, bool]] | None = None) -> bool:
    """``premise`` implies ``conclusion``: no assignment makes the premise true and the conclusion not."""
    if conclusion is True or premise is False or premise == conclusion:
        return True
    if cases is None:
        cases = falsifiers(conclusion)
        if cases is None:
            return False
    return not any(_satisfiable(_apply(premise, v)) for v in cases)


class AdminSubsumption:
    """Decides, per edge, whether the source's admin mark already covers it."""

    def __init__(self, estate: Estate, verdicts: Mapping[str, AdminVerdict]) -> None:
        self.estate = estate
        self.verdicts = verdicts
        self._cases: dict[str, list[dict[Atom, bool]] | None] = {}
        # answers by source and conditions object (edges of a source share them); the value keeps the
        # conditions, so their id stays theirs
        self._covered: dict[tuple[str, int], tuple[Expr, bool]] = {}

    def covers(self, edge: DerivedEdge) -> bool:
        if edge.kind not in _KINDS or edge.source not in self.verdicts:  # most sources are not admins
            return False
        source = self.estate.principals.get(edge.source)
        if source is None or _account_of(edge.target) != source.account:
            return False
        return self.within(edge.source, edge.conditions)

    def admin(self, source: str) -> bool:
        return source in self.verdicts

    def within(self, source: str, conditions: Expr) -> bool:
        """An escalation or grant edge of ``source`` onto its own account under ``conditions`` (or under
        any conditions that imply them) is covered. The techniques ask it before making such edges
        (``Decider.cover``): an account's one decision for an action that implies the admin conditions
        makes every edge built on it covered, so they are not made at all."""
        verdict = self.verdicts.get(source)
        if verdict is None:
            return False
        key = (source, id(conditions))
        hit = self._covered.get(key)
        if hit is None:
            if source not in self._cases:
                self._cases[source] = falsifiers(verdict.conditions)
            cases = self._cases[source]
            covered = cases is not None and implies(conditions, verdict.conditions, cases=cases)
            hit = self._covered[key] = (conditions, covered)
        return hit[1]


def _account_of(node: str) -> str | None:
    parts = node.split(":", 5)
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else None
