"""Numeric operators (spec §3.4 Numeric, G2)."""

from __future__ import annotations

import pytest

from .helpers import is_gap, is_open, one

K = "s3:max-keys"


@pytest.mark.parametrize(
    ("operator", "policy", "value", "expected"),
    [
        ("NumericEquals", "10", "10", True),
        ("NumericEquals", "10", "10.0", True),  # compared as numbers, not text
        ("NumericEquals", "10", "010", True),
        ("NumericEquals", "10", "11", False),
        ("NumericEquals", "-1.5", "-1.50", True),
        ("NumericNotEquals", "10", "10", False),
        ("NumericNotEquals", "10", "11", True),
        ("NumericLessThan", "10", "9", True),
        ("NumericLessThan", "10", "10", False),
        ("NumericLessThan", "10", "9.99", True),
        ("NumericLessThanEquals", "10", "10", True),  # T33
        ("NumericLessThanEquals", "10", "11", False),  # T33
        ("NumericGreaterThan", "10", "10", False),
        ("NumericGreaterThan", "10", "10.01", True),
        ("NumericGreaterThanEquals", "10", "10", True),
        ("NumericGreaterThanEquals", "10", "9", False),
        ("NumericLessThan", "0", "-3", True),
        ("NumericGreaterThan", "1e3", "1001", True),
    ],
)
def test_comparisons(operator: str, policy: str, value: str, expected: bool) -> None:
    assert one(operator, K, policy, {K: value}) is expected


def test_unquoted_json_numbers() -> None:
    assert one("NumericLessThanEquals", K, 10, {K: "10"}) is True
    assert one("NumericEquals", K, 2.5, {K: "2.50"}) is True


def test_request_value_as_number() -> None:
    assert one("NumericEquals", K, "7", {K: 7}) is True


def test_several_values_ored() -> None:
    assert one("NumericEquals", K, ["1", "2", "3"], {K: "2"}) is True
    assert one("NumericEquals", K, ["1", "2", "3"], {K: "4"}) is False


def test_not_equals_is_nor() -> None:
    assert one("NumericNotEquals", K, ["1", "2"], {K: "2"}) is False
    assert one("NumericNotEquals", K, ["1", "2"], {K: "3"}) is True


def test_absent_key() -> None:
    assert one("NumericEquals", K, "1", {}) is False
    assert one("NumericLessThan", K, "1", {}) is False
    assert one("NumericNotEquals", K, "1", {}) is True


@pytest.mark.parametrize("bad", ["ten", "0x10", "NaN", "Infinity", "", "1,000"])
def test_unparseable_request_value_is_undecidable(bad: str) -> None:
    assert is_gap(one("NumericEquals", K, "10", {K: bad}))
    assert is_gap(one("NumericNotEquals", K, "10", {K: bad}))


def test_unparseable_policy_value_is_undecidable() -> None:
    assert is_gap(one("NumericLessThan", K, "ten", {K: "3"}))


def test_one_matching_value_decides_despite_an_unparseable_one() -> None:
    assert one("NumericEquals", K, ["ten", "10"], {K: "10"}) is True
    assert one("NumericNotEquals", K, ["ten", "10"], {K: "10"}) is False
    assert is_gap(one("NumericEquals", K, ["ten", "11"], {K: "10"}))


def test_no_policy_variables_in_numeric_operators() -> None:
    # §4.2: variables are not recognised in Numeric operators; the text is not substituted
    r = one("NumericEquals", K, "${aws:PrincipalTag/limit}", {K: "5", "aws:PrincipalTag/limit": "5"})
    assert r is not True
    assert is_gap(r)


def test_unknown_key() -> None:
    assert is_open(one("NumericLessThan", K, "10", {}, unknown=[K]))


def test_epoch_time_as_numeric() -> None:
    # aws:EpochTime is typed Date and Numeric (§3.4 Date)
    assert one("NumericGreaterThan", "aws:EpochTime", "1700000000", {"aws:EpochTime": "1700000001"}) is True
