"""Date operators (spec §3.4 Date, G8)."""

from __future__ import annotations

import pytest

from iamgraph.policy.conditions.date import parse_instant

from .helpers import is_gap, is_open, one

K = "aws:CurrentTime"


@pytest.mark.parametrize(
    ("operator", "policy", "value", "expected"),
    [
        ("DateEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", True),
        ("DateEquals", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", True),  # same instant
        ("DateEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", False),
        ("DateEquals", "2024-01-01T00:00:00Z", "1704067200", True),  # epoch seconds
        ("DateEquals", "1704067200", "2024-01-01T00:00:00Z", True),
        ("DateEquals", "2024-01-01", "2024-01-01T00:00:00Z", True),  # date only = start of day UTC (G8)
        ("DateEquals", "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00Z", True),
        ("DateNotEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", False),
        ("DateNotEquals", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", True),
        ("DateLessThan", "2024-01-01T00:00:00Z", "2023-12-31T23:59:59Z", True),
        ("DateLessThan", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", False),
        ("DateLessThanEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", True),
        ("DateGreaterThan", "2020-01-01T00:00:01Z", "2024-05-01T12:00:00Z", True),  # T32
        ("DateGreaterThan", "2020-01-01T00:00:01Z", "2020-01-01T00:00:01Z", False),
        ("DateGreaterThanEquals", "2020-01-01T00:00:01Z", "2020-01-01T00:00:01Z", True),
        ("DateLessThan", "2024-01-01T00:00:00+02:00", "2023-12-31T23:00:00Z", False),  # 22:00Z < 23:00Z
        ("DateGreaterThan", "2024-01-01T00:00:00+02:00", "2023-12-31T23:00:00Z", True),
    ],
)
def test_comparisons(operator: str, policy: str, value: str, expected: bool) -> None:
    assert one(operator, K, policy, {K: value}) is expected


def test_absent_key() -> None:
    # T32: aws:TokenIssueTime is absent for long-term credentials
    assert one("DateGreaterThan", "aws:TokenIssueTime", "2020-01-01T00:00:01Z", {}) is False
    assert one("DateNotEquals", "aws:TokenIssueTime", "2020-01-01T00:00:01Z", {}) is True


def test_several_values() -> None:
    values = ["2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"]
    assert one("DateEquals", K, values, {K: "2025-01-01T00:00:00Z"}) is True
    assert one("DateNotEquals", K, values, {K: "2025-01-01T00:00:00Z"}) is False
    assert one("DateNotEquals", K, values, {K: "2026-01-01T00:00:00Z"}) is True


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01", "", "2024/01/01"])
def test_unparseable_is_undecidable(bad: str) -> None:
    assert is_gap(one("DateLessThan", K, "2024-01-01T00:00:00Z", {K: bad}))
    assert is_gap(one("DateLessThan", K, bad or "x", {K: "2024-01-01T00:00:00Z"}))


def test_unknown_key() -> None:
    assert is_open(one("DateLessThan", K, "2024-01-01T00:00:00Z", {}, unknown="aws:*"))


def test_parse_instant() -> None:
    assert parse_instant("1970-01-01T00:00:00Z") == 0
    assert parse_instant("0") == 0
    assert parse_instant("1970-01-01") == 0
    assert parse_instant("1970-01-01T00:00:10+00:00") == 10
    assert parse_instant("nonsense") is None
