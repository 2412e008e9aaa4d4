"""String operators (spec §3.1, §3.3, §3.4 String)."""

from __future__ import annotations

import pytest

from iamgraph.policy.conditions import lookup_operator

from .helpers import cond, is_open, one

K = "aws:PrincipalTag/team"


class TestStringEquals:
    def test_exact_match(self) -> None:
        assert one("StringEquals", K, "red", {K: "red"}) is True

    def test_case_sensitive_value(self) -> None:
        assert one("StringEquals", K, "red", {K: "Red"}) is False

    def test_no_prefix_or_substring_match(self) -> None:
        assert one("StringEquals", K, "red", {K: "redder"}) is False
        assert one("StringEquals", K, "red", {K: "re"}) is False

    def test_several_values_are_ored(self) -> None:
        assert one("StringEquals", K, ["blue", "red"], {K: "red"}) is True
        assert one("StringEquals", K, ["blue", "red"], {K: "green"}) is False

    def test_wildcards_are_literal(self) -> None:
        assert one("StringEquals", K, "r*", {K: "red"}) is False
        assert one("StringEquals", K, "r*", {K: "r*"}) is True
        assert one("StringEquals", K, "r?d", {K: "red"}) is False

    def test_absent_key_is_false(self) -> None:
        assert one("StringEquals", K, "red", {}) is False

    def test_empty_string_value(self) -> None:
        assert one("StringEquals", K, "", {K: ""}) is True
        assert one("StringEquals", K, "", {K: "x"}) is False

    def test_json_number_and_bool_values_are_normalised_to_text(self) -> None:
        assert one("StringEquals", "s3:max-keys", 10, {"s3:max-keys": "10"}) is True
        assert one("StringEquals", "aws:SecureTransport", True, {"aws:SecureTransport": "true"}) is True

    def test_key_name_case_insensitive(self) -> None:
        # T30: "AWS:UserName" in the policy finds aws:username in the context
        assert one("StringEquals", "AWS:UserName", "johndoe", {"aws:username": "johndoe"}) is True
        assert one("StringEquals", "AWS:UserName", "johndoe", {"aws:username": "JohnDoe"}) is False

    def test_tag_key_case_insensitive_tag_value_case_sensitive(self) -> None:
        # T31
        assert one("StringEquals", "aws:ResourceTag/TagKey1", "Production", {"aws:resourcetag/tagkey1": "Production"})
        assert (
            one("StringEquals", "aws:ResourceTag/TagKey1", "Production", {"aws:ResourceTag/TagKey1": "production"})
            is False
        )

    def test_unknown_key_gives_open_atom(self) -> None:
        r = one("StringEquals", K, "red", {}, unknown=[K])
        assert is_open(r)
        assert r.clause is not None and r.clause.key == K and r.clause.operator == "StringEquals"


class TestStringNotEquals:
    def test_single_value(self) -> None:
        assert one("StringNotEquals", K, "red", {K: "red"}) is False
        assert one("StringNotEquals", K, "red", {K: "blue"}) is True

    def test_several_values_are_nor(self) -> None:
        # true only if the request value matches none of the values (T19/T20)
        assert one("StringNotEquals", K, ["red", "blue"], {K: "blue"}) is False
        assert one("StringNotEquals", K, ["red", "blue"], {K: "green"}) is True

    def test_absent_key_is_true(self) -> None:
        assert one("StringNotEquals", K, "red", {}) is True

    def test_accounts_nor(self) -> None:
        # T20
        accounts = ["111122223333", "222233334444"]
        key = "aws:PrincipalAccount"
        assert one("StringNotEquals", key, accounts, {key: "222233334444"}) is False
        assert one("StringNotEquals", key, accounts, {key: "333344445555"}) is True


class TestStringEqualsIgnoreCase:
    def test_case_insensitive(self) -> None:
        assert one("StringEqualsIgnoreCase", K, "PreProd", {K: "preprod"}) is True
        assert one("StringEqualsIgnoreCase", K, "preprod", {K: "PREPROD"}) is True

    def test_not_a_wildcard_operator(self) -> None:
        assert one("StringEqualsIgnoreCase", K, "pre*", {K: "preprod"}) is False

    def test_negated_is_nor(self) -> None:
        assert one("StringNotEqualsIgnoreCase", K, ["RED", "blue"], {K: "red"}) is False
        assert one("StringNotEqualsIgnoreCase", K, ["RED", "blue"], {K: "green"}) is True
        assert one("StringNotEqualsIgnoreCase", K, "red", {}) is True

    def test_absent_key(self) -> None:
        assert one("StringEqualsIgnoreCase", K, "red", {}) is False

    def test_non_ascii_simple_folding(self) -> None:
        assert one("StringEqualsIgnoreCase", K, "ÉQUIPE", {K: "équipe"}) is True

    def test_simple_not_full_case_folding(self) -> None:
        # G8: Unicode *simple* case folding (one character to one), so ß never equals ss
        assert one("StringEqualsIgnoreCase", K, "STRASSE", {K: "straße"}) is False


class TestStringLike:
    @pytest.mark.parametrize(
        ("pattern", "value", "expected"),
        [
            ("blue*", "bluebird", True),
            ("blue*", "blue", True),  # * matches the empty run
            ("blue*", "Bluebird", False),  # case-sensitive
            ("*bird", "bluebird", True),
            ("b*e*d", "bluebird", True),
            ("b?ue", "bue", False),
            ("b?ue", "bbue", True),
            ("bl?e", "blue", True),
            ("bl?e", "ble", False),  # ? is exactly one character
            ("bl??", "blue", True),
            ("blue", "blue", True),  # no wildcard: exact
            ("blue", "bluebird", False),
            ("*", "", True),
            ("*", "any/thing:with*chars", True),
            ("a.b", "axb", False),  # regex metacharacters are literal
            ("a+b", "a+b", True),
            ("x*", "x\ny", True),  # * crosses newlines
        ],
    )
    def test_glob(self, pattern: str, value: str, expected: bool) -> None:
        assert one("StringLike", K, pattern, {K: value}) is expected

    def test_several_patterns_ored(self) -> None:
        assert one("StringLike", "ec2:InstanceType", ["t1.*", "t2.*", "m3.*"], {"ec2:InstanceType": "t2.micro"})
        assert (
            one("StringLike", "ec2:InstanceType", ["t1.*", "t2.*", "m3.*"], {"ec2:InstanceType": "m2.micro"}) is False
        )

    def test_absent(self) -> None:
        assert one("StringLike", K, "*", {}) is False
        assert one("StringNotLike", K, "*", {}) is True

    def test_not_like_is_nor(self) -> None:
        # T12: untagged -> deny applies; bluebird -> does not
        assert one("StringNotLike", K, "blue*", {}) is True
        assert one("StringNotLike", K, "blue*", {K: "bluebird"}) is False
        assert one("StringNotLike", K, ["red*", "blue*"], {K: "redwood"}) is False
        assert one("StringNotLike", K, ["red*", "blue*"], {K: "green"}) is True

    def test_arn_like_contrast_string_like_spans_colons(self) -> None:
        # T26, StringLike half: * runs across colons in StringLike
        pattern = "arn:aws:someservice:*:111122223333:finance/*"
        value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
        assert one("StringLike", "aws:SourceArn", pattern, {"aws:SourceArn": value}) is True


class TestBlock:
    def test_different_keys_are_anded(self) -> None:
        # T18
        c = {
            "StringEquals": {
                "aws:PrincipalTag/department": ["finance", "hr", "legal"],
                "aws:PrincipalTag/role": ["audit", "security"],
            }
        }
        assert cond(c, {"aws:PrincipalTag/department": "legal", "aws:PrincipalTag/role": "audit"}) is True
        assert cond(c, {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "payroll"}) is False
        assert cond(c, {"aws:PrincipalTag/department": "legal"}) is False

    def test_different_operators_are_anded(self) -> None:
        c = {"StringEquals": {K: "red"}, "StringLike": {"aws:username": "a*"}}
        assert cond(c, {K: "red", "aws:username": "alice"}) is True
        assert cond(c, {K: "red", "aws:username": "bob"}) is False

    def test_empty_block_is_true(self) -> None:
        assert cond({}, {}) is True

    def test_false_clause_folds_away_unknown_ones(self) -> None:
        c = {"StringEquals": {K: "red"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
        assert cond(c, {K: "blue"}, unknown=["aws:SourceIp"]) is False
        assert is_open(cond(c, {K: "red"}, unknown=["aws:SourceIp"]))


def test_registry_string_family() -> None:
    for name in ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringLike", "StringNotLike"):
        spec = lookup_operator(name)
        assert spec is not None and spec.family == "String" and spec.variables
    assert lookup_operator("StringNotLike").negated  # type: ignore[union-attr]
    assert not lookup_operator("StringLike").negated  # type: ignore[union-attr]
    assert lookup_operator("stringequals") is lookup_operator("StringEquals")
