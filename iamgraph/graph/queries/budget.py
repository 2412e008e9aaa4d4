"""Bounds of a query: a time budget checked inside traversals, and the error a query gives when it hits one.

The API runs every path query with a deadline so that no request can keep a worker busy; traversals call
``check(deadline)`` once per visited node, which costs a clock read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from iamgraph.errors import InputError

__all__ = ["Deadline", "LimitExceeded", "check"]


class LimitExceeded(InputError):
    """A query hit one of its bounds (``limit``: e.g. ``time_budget_s``, ``max_depth``, ``max_paths``)."""

    def __init__(self, message: str, *, limit: str, value: float) -> None:
        self.limit = limit
        self.value = value
        super().__init__(message, element=limit)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on the monotonic clock after which a query stops with LimitExceeded."""

    at: float
    budget: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(at=time.monotonic() + seconds, budget=seconds)

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise LimitExceeded(
                f"the query did not finish within its time budget of {self.budget:g} s; narrow it "
                "(a lower max_depth, a specific action) or raise the budget",
                limit="time_budget_s",
                value=self.budget,
            )


def check(deadline: Deadline | None) -> None:
    """Raise LimitExceeded when the deadline has passed; nothing without one."""
    if deadline is not None:
        deadline.check()
