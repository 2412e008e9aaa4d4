"""ForAllValues / ForAnyValue (spec §3.7, C3, errata 4, errata 7, T21–T25)."""

from __future__ import annotations

import pytest

from .helpers import is_gap, is_open, one, policy

TK = "aws:TagKeys"
TAGS = ["environment", "cost-center"]


class TestForAllValues:
    @pytest.mark.parametrize(
        ("request_values", "expected"),
        [
            (["environment"], True),  # T21
            (["environment", "cost-center"], True),
            (["environment", "dept"], False),
            (["dept"], False),
            ([], True),  # empty set: vacuously true
        ],
    )
    def test_positive(self, request_values: list[str], expected: bool) -> None:
        assert one("ForAllValues:StringEquals", TK, TAGS, {TK: request_values}) is expected

    def test_absent_key_is_true(self) -> None:
        assert one("ForAllValues:StringEquals", TK, TAGS, {}) is True

    def test_null_guard_pattern(self) -> None:
        # T21: pairing with Null false stops absent keys from matching
        from .helpers import cond

        c = {"ForAllValues:StringEquals": {TK: TAGS}, "Null": {TK: "false"}}
        assert cond(c, {TK: ["environment"]}) is True
        assert cond(c, {}) is False

    def test_negated_none_may_match(self) -> None:
        # ForAllValues:StringNotEquals: none of the request values may match any policy value (NOR per value)
        op = "ForAllValues:StringNotEquals"
        assert one(op, TK, TAGS, {TK: ["dept", "owner"]}) is True
        assert one(op, TK, TAGS, {TK: ["dept", "cost-center"]}) is False
        assert one(op, TK, TAGS, {TK: []}) is True

    def test_negated_absent_key_is_true(self) -> None:
        # C3 / errata 7: keep "true" (Deny + ForAllValues:StringNotLike with no aws:TagKeys -> denied)
        assert one("ForAllValues:StringNotLike", TK, ["env*"], {}) is True
        assert one("ForAllValues:StringNotEquals", TK, TAGS, {}) is True

    def test_like(self) -> None:
        assert one("ForAllValues:StringLike", TK, ["env*", "cost-*"], {TK: ["environment", "cost-x"]}) is True
        assert one("ForAllValues:StringLike", TK, ["env*", "cost-*"], {TK: ["environment", "owner"]}) is False


class TestForAnyValue:
    @pytest.mark.parametrize(
        ("request_values", "expected"),
        [
            (["environment", "dept"], True),  # T23
            (["dept"], False),  # T23
            (["cost-center"], True),
            ([], False),
        ],
    )
    def test_positive(self, request_values: list[str], expected: bool) -> None:
        assert one("ForAnyValue:StringEquals", TK, TAGS, {TK: request_values}) is expected

    def test_absent_key_is_false(self) -> None:
        # T23
        assert one("ForAnyValue:StringEquals", TK, TAGS, {}) is False

    def test_negated_some_value_matches_none(self) -> None:
        op = "ForAnyValue:StringNotEquals"
        assert one(op, TK, TAGS, {TK: ["environment", "dept"]}) is True
        assert one(op, TK, TAGS, {TK: ["environment", "cost-center"]}) is False
        assert one(op, TK, TAGS, {TK: []}) is False
        assert one(op, TK, TAGS, {}) is False


class TestCaseRules:
    def test_string_equals_is_case_sensitive(self) -> None:
        # T24: request key Environment does not match policy environment
        assert one("ForAnyValue:StringEquals", TK, "environment", {TK: ["Environment"]}) is False
        assert one("ForAnyValue:StringEquals", TK, "environment", {TK: ["environment"]}) is True

    def test_ignore_case_variant(self) -> None:
        assert one("ForAnyValue:StringEqualsIgnoreCase", TK, "environment", {TK: ["Environment"]}) is True
        assert one("ForAllValues:StringEqualsIgnoreCase", TK, TAGS, {TK: ["ENVIRONMENT", "Cost-Center"]}) is True

    def test_like_is_case_sensitive(self) -> None:
        assert one("ForAnyValue:StringLike", TK, "env*", {TK: ["Env"]}) is False

    def test_qualifier_name_is_case_insensitive(self) -> None:
        p = policy(
            {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"forallvalues:StringEquals": {TK: "a"}}}
        )
        assert p.statements[0].conditions[0].qualifier == "ForAllValues"

    def test_t24_full(self) -> None:
        from .helpers import cond

        c = {
            "StringEqualsIgnoreCase": {"aws:RequestTag/environment": ["preprod", "storage"]},
            "ForAnyValue:StringEquals": {TK: "environment"},
        }
        assert cond(c, {TK: ["environment"], "aws:RequestTag/environment": "PreProd"}) is True
        assert cond(c, {TK: ["Environment"], "aws:RequestTag/environment": "PreProd"}) is False


class TestSingleValuedAndMultivalued:
    def test_set_operator_on_single_valued_key_is_a_one_element_set(self) -> None:
        key = "aws:PrincipalTag/team"
        assert one("ForAllValues:StringEquals", key, "red", {key: "red"}) is True
        assert one("ForAllValues:StringEquals", key, "red", {key: "blue"}) is False
        assert one("ForAllValues:StringEquals", key, "red", {}) is True  # "overly permissive"
        assert one("ForAnyValue:StringEquals", key, "red", {key: "red"}) is True
        assert one("ForAnyValue:StringEquals", key, "red", {}) is False

    def test_multivalued_key_without_set_operator_is_unknown(self) -> None:
        # §3.7 / G1: Access Analyzer MISSING_QUALIFIER; runtime undocumented -> Unknown
        r = one("StringEquals", TK, "environment", {TK: ["environment", "dept"]})
        assert is_gap(r)
        assert "ForAllValues" in r.reason  # type: ignore[union-attr]
        assert is_gap(one("StringNotEquals", TK, "environment", {TK: ["environment", "dept"]}))

    def test_empty_multivalued_key_without_set_operator_is_unknown(self) -> None:
        assert is_gap(one("StringEquals", TK, "environment", {TK: []}))

    def test_one_element_multivalued_key_without_set_operator_is_unknown(self) -> None:
        # G1: the key is multivalued (an array) whatever the number of values it holds
        assert is_gap(one("StringEquals", TK, "environment", {TK: ["environment"]}))


def test_unknown_key_is_open() -> None:
    assert is_open(one("ForAllValues:StringEquals", TK, TAGS, {}, unknown=[TK]))


@pytest.mark.parametrize("qualifier", ["ForAllValues", "ForAnyValue"])
def test_undecidable_element_makes_the_set_undecidable(qualifier: str) -> None:
    assert is_gap(one(f"{qualifier}:NumericLessThan", "svc:Sizes", "10", {"svc:Sizes": ["5", "big"]}))
