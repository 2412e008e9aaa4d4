"""The registry of regional collectors and the small helpers they share."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from iamgraph.collect.account import ResourceRecord
from iamgraph.collect.calls import Caller

__all__ = ["REGIONAL", "Collector", "RegionalService", "read", "regional"]

Collector = Callable[[Caller], list[ResourceRecord]]


@dataclass(frozen=True, slots=True)
class RegionalService:
    name: str  # boto3 service name (the report's "service")
    label: str  # what the snapshot lacks when the listing fails
    collect: Collector


REGIONAL: list[RegionalService] = []


def regional(name: str, label: str) -> Callable[[Collector], Collector]:
    """Register a collector of one service in one region."""

    def add(collect: Collector) -> Collector:
        REGIONAL.append(RegionalService(name, label, collect))
        return collect

    return add


def read(
    caller: Caller, record: ResourceRecord, part: str, operation: str, *, what: str,
    absent: Collection[str] = (), **params: Any,
) -> dict[str, Any] | None:  # fmt: skip
    """One per-resource read; when it fails the resource is kept and ``part`` is marked unreadable."""
    answer = caller.call(operation, what=what, target=record.arn, absent=absent, **params)
    if answer is None:
        record.unreadable.append(part)
    return answer
