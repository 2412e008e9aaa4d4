"""ARN operators (spec §3.4 ARN, T25, T26, T27, T87)."""

from __future__ import annotations

import pytest

from .helpers import is_open, one

K = "aws:SourceArn"


class TestArnLike:
    @pytest.mark.parametrize("op", ["ArnLike", "ArnEquals"])
    def test_arn_equals_is_arn_like(self, op: str) -> None:
        # T27
        pattern = "arn:aws:sns:*:123456789012:TOPIC"
        assert one(op, K, pattern, {K: "arn:aws:sns:us-west-2:123456789012:TOPIC"}) is True
        assert one(op, K, pattern, {K: "arn:aws:sns:us-west-2:777788889999:TOPIC"}) is False

    def test_per_component_matching(self) -> None:
        # T26: ArnLike does not match where StringLike does
        pattern = "arn:aws:someservice:*:111122223333:finance/*"
        value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
        assert one("ArnLike", K, pattern, {K: value}) is False
        assert one("StringLike", K, pattern, {K: value}) is True

    def test_wildcard_does_not_span_leading_components(self) -> None:
        assert one("ArnLike", K, "arn:aws:s3:*:bucket", {K: "arn:aws:s3:::bucket"}) is False
        assert one("ArnLike", K, "arn:aws:*:::bucket", {K: "arn:aws:s3:::bucket"}) is True

    def test_sixth_component_keeps_colons(self) -> None:
        value = "arn:aws:logs:us-east-1:111122223333:log-group:my-group:log-stream:s1"
        assert one("ArnLike", K, "arn:aws:logs:us-east-1:111122223333:log-group:*", {K: value}) is True
        assert one("ArnLike", K, "arn:aws:logs:*:*:log-group:my-group:*", {K: value}) is True
        assert one("ArnEquals", K, value, {K: value}) is True

    def test_question_mark(self) -> None:
        assert one("ArnLike", K, "arn:aws:iam::111122223333:user/b?b", {K: "arn:aws:iam::111122223333:user/bob"})
        assert (
            one("ArnLike", K, "arn:aws:iam::111122223333:user/b?b", {K: "arn:aws:iam::111122223333:user/bb"}) is False
        )

    def test_case_sensitive(self) -> None:
        assert (
            one("ArnEquals", K, "arn:aws:iam::111122223333:user/Bob", {K: "arn:aws:iam::111122223333:user/bob"})
            is False
        )
        assert one("ArnLike", K, "arn:aws:IAM::111122223333:user/*", {K: "arn:aws:iam::111122223333:user/bob"}) is False

    def test_empty_region_and_account_components(self) -> None:
        assert one("ArnLike", K, "arn:aws:s3:::bucket/*", {K: "arn:aws:s3:::bucket/key"}) is True
        assert one("ArnLike", K, "arn:aws:s3:::bucket/*", {K: "arn:aws:s3:us-east-1::bucket/key"}) is False

    @pytest.mark.parametrize(
        ("pattern", "value"),
        [
            ("arn:aws:s3:::bucket", "arn:aws:s3::bucket"),  # value has five components
            ("arn:aws:s3::bucket", "arn:aws:s3::bucket"),  # pattern has five components
            ("*", "arn:aws:s3:::bucket"),  # a bare * is not an ARN pattern
            ("arn:aws:s3:::*", "not-an-arn"),
        ],
    )
    def test_fewer_than_six_components_never_match(self, pattern: str, value: str) -> None:
        assert one("ArnLike", K, pattern, {K: value}) is False

    def test_several_values(self) -> None:
        values = ["arn:aws:iam::111122223333:user/Ana", "arn:aws:iam::111122223333:user/Mary"]
        assert one("ArnLike", K, values, {K: "arn:aws:iam::111122223333:user/Mary"}) is True
        assert one("ArnLike", K, values, {K: "arn:aws:iam::111122223333:user/Nikki"}) is False

    def test_absent(self) -> None:
        assert one("ArnLike", K, "arn:aws:*:*:*:*", {}) is False
        assert one("ArnEquals", K, "arn:aws:*:*:*:*", {}) is False


class TestArnNotLike:
    @pytest.mark.parametrize("op", ["ArnNotLike", "ArnNotEquals"])
    def test_nor(self, op: str) -> None:
        # T19: negated ARN operator over several values is NOR
        values = ["arn:aws:iam::111122223333:user/Ana", "arn:aws:iam::111122223333:user/Mary"]
        assert one(op, K, values, {K: "arn:aws:iam::111122223333:user/Nikki"}) is True
        assert one(op, K, values, {K: "arn:aws:iam::111122223333:user/Mary"}) is False

    @pytest.mark.parametrize("op", ["ArnNotLike", "ArnNotEquals"])
    def test_absent_is_true(self, op: str) -> None:
        assert one(op, K, "arn:aws:*:*:*:*", {}) is True


def test_principal_arn_of_role_session_is_role_arn() -> None:
    # T87: aws:PrincipalArn of a session is the role ARN, so a session ARN pattern never matches it
    ctx = {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/R"}
    assert one("ArnEquals", "aws:PrincipalArn", "arn:aws:sts::111122223333:assumed-role/R/s1", ctx) is False
    assert one("ArnEquals", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/R", ctx) is True


def test_variables_in_arn_values() -> None:
    ctx = {K: "arn:aws:sqs:us-east-1:111122223333:queue1", "aws:PrincipalAccount": "111122223333"}
    assert one("ArnLike", K, "arn:aws:sqs:*:${aws:PrincipalAccount}:*", ctx) is True
    ctx["aws:PrincipalAccount"] = "444455556666"
    assert one("ArnLike", K, "arn:aws:sqs:*:${aws:PrincipalAccount}:*", ctx) is False


def test_substituted_arn_value_is_split_into_components() -> None:
    ctx = {K: "arn:aws:iam::111122223333:user/alice", "aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice"}
    assert one("ArnEquals", K, "${aws:PrincipalArn}", ctx) is True


def test_for_all_values_arn_like_absent_key_matches() -> None:
    # T25
    key = "logs:LogGeneratingResourceArns"
    pattern = ["arn:aws:cloudfront::123456789012:distribution/*"]
    assert one("ForAllValues:ArnLike", key, pattern, {}) is True
    assert (
        one("ForAllValues:ArnLike", key, pattern, {key: ["arn:aws:cloudfront::777788889999:distribution/d"]}) is False
    )
    assert one("ForAllValues:ArnLike", key, pattern, {key: ["arn:aws:cloudfront::123456789012:distribution/d"]}) is True


def test_unknown() -> None:
    assert is_open(one("ArnLike", K, "arn:aws:*:*:*:*", {}, unknown=[K]))
