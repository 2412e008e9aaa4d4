"""Bool operator (spec §3.4 Bool, C4, T16, T17)."""

from __future__ import annotations

import pytest

from .helpers import is_gap, is_open, one

MFA = "aws:MultiFactorAuthPresent"
TLS = "aws:SecureTransport"


@pytest.mark.parametrize(
    ("policy", "value", "expected"),
    [
        ("true", "true", True),
        ("true", "false", False),
        ("false", "false", True),
        ("false", "true", False),
        ("True", "true", True),  # case of true/false not significant (G)
        ("false", "FALSE", True),
    ],
)
def test_bool(policy: str, value: str, expected: bool) -> None:
    assert one("Bool", TLS, policy, {TLS: value}) is expected


def test_unquoted_json_booleans() -> None:
    assert one("Bool", TLS, False, {TLS: "false"}) is True
    assert one("Bool", TLS, True, {TLS: True}) is True


def test_absent_key_does_not_match_false() -> None:
    # T17: Deny with Bool MFA=false does not catch long-term keys (key absent)
    assert one("Bool", MFA, "false", {}) is False
    assert one("Bool", MFA, "false", {MFA: "false"}) is True


def test_bool_if_exists_absent() -> None:
    # T07 / TP-6: BoolIfExists ... passes when the key is absent
    assert one("BoolIfExists", MFA, "false", {}) is True
    assert one("BoolIfExists", MFA, "true", {}) is True
    assert one("BoolIfExists", MFA, "true", {MFA: "false"}) is False


def test_several_values() -> None:
    assert one("Bool", TLS, ["true", "false"], {TLS: "false"}) is True


@pytest.mark.parametrize("bad", ["yes", "1", ""])
def test_non_boolean_text_is_undecidable(bad: str) -> None:
    assert is_gap(one("Bool", TLS, "true", {TLS: bad}))


def test_non_boolean_policy_value_is_undecidable() -> None:
    assert is_gap(one("Bool", TLS, "maybe", {TLS: "true"}))


def test_variables_accepted_with_bool() -> None:
    # C4: substitute (accept)
    ctx = {TLS: "true", "aws:PrincipalTag/needtls": "true"}
    assert one("Bool", TLS, "${aws:PrincipalTag/needtls}", ctx) is True
    ctx["aws:PrincipalTag/needtls"] = "false"
    assert one("Bool", TLS, "${aws:PrincipalTag/needtls}", ctx) is False


def test_set_operators_on_array_of_bool() -> None:
    key = "svc:Flags"
    assert one("ForAllValues:Bool", key, "true", {key: ["true", "true"]}) is True
    assert one("ForAllValues:Bool", key, "true", {key: ["true", "false"]}) is False
    assert one("ForAnyValue:Bool", key, "false", {key: ["true", "false"]}) is True
    assert one("ForAnyValue:Bool", key, "false", {key: ["true"]}) is False


def test_unknown_key() -> None:
    assert is_open(one("Bool", MFA, "true", {}, unknown=[MFA]))
