"""Null and ...IfExists (spec §3.3, §3.5, §3.6, errata 4, T13, T14, T15)."""

from __future__ import annotations

import pytest

from iamgraph.errors import PolicyError

from .helpers import cond, is_gap, is_open, one, policy

TIT = "aws:TokenIssueTime"
VPC = "aws:SourceVpc"


class TestNull:
    def test_true_means_absent(self) -> None:
        assert one("Null", TIT, "true", {}) is True
        assert one("Null", TIT, "true", {TIT: "2024-01-01T00:00:00Z"}) is False

    def test_false_means_present(self) -> None:
        # T15: long-term keys (absent) -> no match; role session (present) -> match
        assert one("Null", TIT, "false", {}) is False
        assert one("Null", TIT, "false", {TIT: "2024-01-01T00:00:00Z"}) is True

    def test_json_boolean_values(self) -> None:
        assert one("Null", TIT, True, {}) is True
        assert one("Null", TIT, False, {}) is False

    def test_value_case(self) -> None:
        assert one("Null", TIT, "TRUE", {}) is True

    def test_empty_value_is_null(self) -> None:
        # §3.6 DOC-GAP: a key present with an empty value is treated as null
        assert one("Null", "aws:RequestTag/x", "true", {"aws:RequestTag/x": ""}) is True
        assert one("Null", "aws:TagKeys", "true", {"aws:TagKeys": []}) is True
        assert one("Null", "aws:TagKeys", "false", {"aws:TagKeys": ["a"]}) is True

    def test_null_context_value_is_null(self) -> None:
        # §1.5 / §3.6: a key present with a null (JSON null) value is null, not the text "None"
        assert one("Null", "aws:RequestTag/x", "true", {"aws:RequestTag/x": None}) is True

    def test_no_variables_in_null(self) -> None:
        # §4.2: Null takes no policy variables; substituting would make this "true" and match the absent key
        assert one("Null", TIT, "${aws:PrincipalTag/flag}", {"aws:PrincipalTag/flag": "true"}) is False

    def test_unknown_key_is_open(self) -> None:
        r = one("Null", TIT, "true", {}, unknown=[TIT])
        assert is_open(r)

    def test_known_pattern_overrides_unknown(self) -> None:
        assert one("Null", TIT, "true", {}, unknown="*", known=[TIT]) is True

    @pytest.mark.parametrize("op", ["NullIfExists", "ForAllValues:NullIfExists"])
    def test_if_exists_rejected(self, op: str) -> None:
        with pytest.raises(PolicyError) as exc:
            policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {op: {TIT: "true"}}})
        assert "IfExists" in str(exc.value)
        assert exc.value.element == "Statement[0].Condition"


class TestIfExists:
    @pytest.mark.parametrize(
        "op",
        [
            "StringEqualsIfExists",
            "StringNotEqualsIfExists",
            "StringLikeIfExists",
            "NumericLessThanIfExists",
            "DateGreaterThanIfExists",
            "BoolIfExists",
            "IpAddressIfExists",
            "NotIpAddressIfExists",
            "ArnLikeIfExists",
            "ArnNotEqualsIfExists",
            "BinaryEqualsIfExists",
        ],
    )
    def test_absent_key_is_true(self, op: str) -> None:
        assert one(op, "svc:absent", "x", {}) is True

    def test_present_key_uses_base_operator(self) -> None:
        # T13
        types = ["t1.*", "t2.*", "m3.*"]
        assert one("StringLikeIfExists", "ec2:InstanceType", types, {"ec2:InstanceType": "t1.micro"}) is True
        assert one("StringLikeIfExists", "ec2:InstanceType", types, {"ec2:InstanceType": "m2.micro"}) is False
        assert one("StringLikeIfExists", "ec2:InstanceType", types, {}) is True

    def test_negated_if_exists_absent_is_still_true(self) -> None:
        # T14: Deny + StringNotEqualsIfExists aws:SourceVpc still denies when the key is absent
        assert one("StringNotEqualsIfExists", VPC, "vpc-111bbb22", {}) is True
        assert one("StringNotEqualsIfExists", VPC, "vpc-111bbb22", {VPC: "vpc-111bbb22"}) is False
        assert one("StringNotEqualsIfExists", VPC, "vpc-111bbb22", {VPC: "vpc-other"}) is True

    def test_other_pairs_still_decide(self) -> None:
        c = {
            "StringEqualsIfExists": {"ec2:InstanceType": "t2.micro"},
            "StringEquals": {"aws:RequestedRegion": "eu-west-1"},
        }
        assert cond(c, {"aws:RequestedRegion": "us-east-1"}) is False
        assert cond(c, {"aws:RequestedRegion": "eu-west-1"}) is True

    def test_present_but_uninterpretable_still_undecidable(self) -> None:
        assert is_gap(one("NumericLessThanIfExists", "s3:max-keys", "10", {"s3:max-keys": "lots"}))

    @pytest.mark.parametrize("op", ["ForAnyValue:StringEqualsIfExists", "ForAllValues:StringEqualsIfExists"])
    def test_set_operator_with_if_exists_on_absent_key_is_unknown(self, op: str) -> None:
        # errata 4: DOC-GAP -> Unknown
        assert is_gap(one(op, "aws:TagKeys", "env", {}))

    def test_set_operator_with_if_exists_on_present_key(self) -> None:
        assert one("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", "env", {"aws:TagKeys": ["env", "x"]}) is True
        assert one("ForAllValues:StringEqualsIfExists", "aws:TagKeys", "env", {"aws:TagKeys": ["env", "x"]}) is False

    def test_unknown_key_is_open(self) -> None:
        assert is_open(one("StringEqualsIfExists", VPC, "vpc-1", {}, unknown=[VPC]))

    def test_parse_records_if_exists(self) -> None:
        p = policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"BoolIfExists": {"k": "true"}}})
        clause = p.statements[0].conditions[0]
        assert clause.if_exists and clause.base == "Bool" and clause.operator == "BoolIfExists"
