"""The answer of the engine as data: result, what blocked it, what matched, what stayed open."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from iamgraph.model._fast import fast_pickle
from iamgraph.model.policy import Effect, StatementRef
from iamgraph.policy.logic import Expr, atoms, expr_to_json

__all__ = ["Decision", "MatchedStatement", "Result"]


class Result(StrEnum):
    ALLOWED = "Allowed"
    EXPLICITLY_DENIED = "ExplicitlyDenied"
    IMPLICITLY_DENIED = "ImplicitlyDenied"
    CONDITIONAL = "Conditional"  # allowed exactly when the residual conditions hold
    UNKNOWN = "Unknown"  # depends on a condition AWS documentation leaves undecided


# Looked up once: reading an enum member off its class goes through the enum machinery (about 0.1 us in
# CPython 3.11), and a build asks whether a decision is possible a few hundred thousand times
_ALLOWED, _DENIED = Result.ALLOWED, Result.EXPLICITLY_DENIED
_ALLOW, _DENY = Effect.ALLOW, Effect.DENY  # (an enum member's .value is a Python-level property as well)
_POSSIBLE = (Result.ALLOWED, Result.CONDITIONAL, Result.UNKNOWN)


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchedStatement:
    """A statement that applied (``conditional`` False) or may apply, and the principal forms it named."""

    ref: StatementRef
    conditional: bool
    forms: tuple[str, ...] = ()
    level: str | None = None  # the organization level (root, OU, account) of an SCP or RCP

    def to_json(self) -> dict[str, Any]:
        out = self.ref.to_json()
        if self.level is not None:
            out["level"] = self.level
        out["conditional"] = self.conditional
        if self.forms:
            out["principal_forms"] = list(self.forms)
        return out


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    result: Result
    blocked_by: tuple[str, ...] = ()
    matched: tuple[MatchedStatement, ...] = ()
    residual: Expr = True
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.result is _ALLOWED

    @property
    def possible(self) -> bool:
        """Allowed for at least one value of the unknown keys (an edge exists)."""
        return self.result in _POSSIBLE

    def deciding(self) -> tuple[MatchedStatement, ...]:
        """The statements that decided: denies for a deny, allows otherwise."""
        if self.result is _DENIED:
            return tuple(m for m in self.matched if m.ref.effect is _DENY and not m.conditional)
        return tuple(m for m in self.matched if m.ref.effect is _ALLOW)

    def residual_json(self) -> list[Any]:
        """The residual as a list of conjuncts (empty when nothing stayed open)."""
        if isinstance(self.residual, bool):
            return []
        from iamgraph.policy.logic import And

        items = sorted(self.residual.items, key=repr) if isinstance(self.residual, And) else [self.residual]
        return [expr_to_json(i) for i in items]

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": self.result.value,
            "blocked_by": list(self.blocked_by),
            "matched": [m.to_json() for m in self.matched],
            "residual": self.residual_json(),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }

    def undecidable(self) -> bool:
        return any(a.undecidable for a in atoms(self.residual))
