"""The registry of review checks: adding a check is adding one decorated function to a family module."""

from __future__ import annotations

from collections.abc import Callable

from iamgraph.review.model import Check, CheckRun, Severity

__all__ = ["CHECKS", "checks", "register"]

CHECKS: dict[str, Check] = {}


def register(
    check_id: str,
    *,
    family: str,
    severity: Severity,
    title: str,
    description: str,
    remediation: str,
    reads: str,
) -> Callable[[CheckRun], CheckRun]:
    """Decorator: register ``run(ctx)`` under a unique kebab-case id."""

    def wrap(fn: CheckRun) -> CheckRun:
        if check_id in CHECKS:
            raise ValueError(f"review check {check_id} registered twice")
        CHECKS[check_id] = Check(
            id=check_id,
            family=family,
            severity=severity,
            title=title,
            description=description,
            remediation=remediation,
            reads=reads,
            run=fn,
        )
        return fn

    return wrap


def checks() -> tuple[Check, ...]:
    """Every registered check, family by family (importing the check modules registers them)."""
    import iamgraph.review.families  # noqa: F401  (side effect: registration)

    return tuple(CHECKS.values())
