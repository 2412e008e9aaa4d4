"""BinaryEquals (spec §3.4 Binary, T34)."""

from __future__ import annotations

import base64

from .helpers import is_gap, one

K = "svc:BinaryKey"
POLICY = "QmluYXJ5VmFsdWVJbkJhc2U2NA=="  # base64 of "BinaryValueInBase64"


def test_same_bytes_as_base64_request_value() -> None:
    assert one("BinaryEquals", K, POLICY, {K: POLICY}) is True


def test_same_bytes_as_raw_request_value() -> None:
    assert base64.b64decode(POLICY) == b"BinaryValueInBase64"
    assert one("BinaryEquals", K, POLICY, {K: "BinaryValueInBase64"}) is True


def test_different_bytes() -> None:
    other = base64.b64encode(b"SomethingElse").decode()
    assert one("BinaryEquals", K, POLICY, {K: other}) is False


def test_case_of_bytes_matters() -> None:
    other = base64.b64encode(b"binaryvalueinbase64").decode()
    assert one("BinaryEquals", K, POLICY, {K: other}) is False


def test_absent_key() -> None:
    assert one("BinaryEquals", K, POLICY, {}) is False


def test_several_values() -> None:
    other = base64.b64encode(b"x").decode()
    assert one("BinaryEquals", K, [other, POLICY], {K: POLICY}) is True


def test_policy_value_not_base64_is_undecidable() -> None:
    assert is_gap(one("BinaryEquals", K, "not base64!", {K: POLICY}))


def test_no_variables() -> None:
    r = one("BinaryEquals", K, "${aws:username}", {K: "${aws:username}", "aws:username": "alice"})
    assert r is not True
