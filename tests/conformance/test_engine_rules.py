"""Our own examples of the rules the iam-simulate comparison led to (they run without the reference cases).

* S3 Block Public Access, RestrictPublicBuckets, and the "public" bucket-policy classifier;
* Resource values with fewer than six ARN segments (spec errata 5);
* pattern requests split into the parts their grants name.
"""

from __future__ import annotations

from typing import Any

import pytest

from iamgraph.errors import InputError
from iamgraph.evaluation.document import evaluate_document
from iamgraph.model.policy import PolicyKind
from iamgraph.policy.match import ResourceMatcher, part_named
from iamgraph.policy.parse import parse_policy
from iamgraph.policy.public import is_public

OWNER, OTHER = "111122223333", "444455556666"
BUCKET = "arn:aws:s3:::reports"


def _stmt(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*", **extra}


def _bucket_doc(principal: Any, bucket_policy: dict[str, Any], *, bpa: bool | None = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "request": {
            "principal": principal,
            "action": "s3:GetObject",
            "resource": f"{BUCKET}/q1.csv",
            "resourceAccount": OWNER,
        },
        "identityPolicies": [{"Version": "2012-10-17", "Statement": [_stmt()]}],
        "resourcePolicy": {"Version": "2012-10-17", "Statement": bucket_policy["Statement"]},
    }
    if bpa is not None:
        doc["settings"] = {"s3BlockPublicAccess": bpa}
    return doc


PUBLIC = {"Statement": [_stmt(Principal="*")]}
ORG_ONLY = {"Statement": [_stmt(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abcd1234"}})]}


# ---- public classifier ----------------------------------------------------------------------------


def _public(*statements: dict[str, Any]) -> tuple[bool, list[int]]:
    policy = parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name="b", kind=PolicyKind.RESOURCE)
    return is_public(policy)


@pytest.mark.parametrize(
    ("condition", "public"),
    [
        (None, True),
        ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, False),
        ({"StringLike": {"aws:SourceVpce": "vpce-*"}}, True),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-abcd1234"}}, False),
        ({"StringNotEquals": {"aws:PrincipalOrgID": "o-abcd1234"}}, True),
        ({"StringEqualsIfExists": {"aws:SourceAccount": OWNER}}, True),
        ({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abcd1234"}}, True),
        ({"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}, True),
        ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER}:role/*"}}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/reader"}}, True),
        ({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}, False),
        ({"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}, False),
        ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, True),
        ({"Bool": {"aws:PrincipalIsAWSService": "true"}}, False),
    ],
)
def test_public_classifier(condition: dict[str, Any] | None, public: bool) -> None:
    statement = _stmt(Principal="*") if condition is None else _stmt(Principal="*", Condition=condition)
    assert _public(statement) == (public, [0] if public else [])


def test_public_classifier_names_the_public_statements_only() -> None:
    named = _stmt(Principal={"AWS": f"arn:aws:iam::{OTHER}:role/reader"})
    denied = {**_stmt(Principal="*"), "Effect": "Deny"}
    assert _public(named, denied) == (False, [])
    assert _public(named, _stmt(Principal={"AWS": "*"})) == (True, [1])


# ---- RestrictPublicBuckets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "policy", "bpa", "expected"),
    [
        (f"arn:aws:iam::{OTHER}:role/reader", PUBLIC, True, "ExplicitlyDenied"),
        (f"arn:aws:iam::{OTHER}:role/reader", PUBLIC, False, "Allowed"),
        (f"arn:aws:iam::{OTHER}:role/reader", PUBLIC, None, "Allowed"),
        ({"type": "Anonymous"}, PUBLIC, True, "ExplicitlyDenied"),
        (f"arn:aws:iam::{OWNER}:role/reader", PUBLIC, True, "Allowed"),
        ("cloudfront.amazonaws.com", PUBLIC, True, "Allowed"),
        (f"arn:aws:iam::{OTHER}:role/reader", ORG_ONLY, True, "ImplicitlyDenied"),  # not public; no org id given
    ],
)
def test_restrict_public_buckets(principal: Any, policy: dict[str, Any], bpa: bool | None, expected: str) -> None:
    out = evaluate_document(_bucket_doc(principal, policy, bpa=bpa)).to_json()
    assert out["decision"] == expected
    if expected == "ExplicitlyDenied":
        assert out["blocked_by"] == ["s3-bpa"]


def test_public_statement_blocks_other_grants_too() -> None:
    """RestrictPublicBuckets blocks cross-account access through *any* statement of a public policy."""
    policy = {
        "Statement": [
            {**_stmt(Principal="*"), "Action": "s3:GetBucketLocation", "Resource": BUCKET},
            _stmt(Principal={"AWS": f"arn:aws:iam::{OTHER}:role/reader"}),
        ]
    }
    out = evaluate_document(_bucket_doc(f"arn:aws:iam::{OTHER}:role/reader", policy)).to_json()
    assert (out["decision"], out["blocked_by"]) == ("ExplicitlyDenied", ["s3-bpa"])


def test_unknown_setting_is_rejected() -> None:
    doc = _bucket_doc(f"arn:aws:iam::{OTHER}:role/reader", PUBLIC)
    doc["settings"] = {"s3BlockPublicAcls": True}
    with pytest.raises(InputError, match="settings"):
        evaluate_document(doc)


# ---- short ARNs -----------------------------------------------------------------------------------

QUEUE = f"arn:aws:sqs:us-east-1:{OWNER}:jobs"


@pytest.mark.parametrize(
    ("pattern", "matched", "ambiguous"),
    [
        ("arn:aws:sqs:*", True, False),  # a final * crosses colons: both readings match
        ("arn:aws:sqs:us-west-2", False, False),  # neither reading matches
        ("arn:aws:sqs", False, True),  # literal: no; completed with *: yes
        (f"arn:aws:sqs:*:{OWNER}", False, True),
    ],
)
def test_short_arn_patterns(pattern: str, matched: bool, ambiguous: bool) -> None:
    r = ResourceMatcher((pattern,), False, True).match(QUEUE, lambda _key: None, deny=False)
    assert (r.matched, bool(r.ambiguous)) == (matched, ambiguous)


def test_short_arn_grant_is_unknown() -> None:
    doc = {
        "request": {"principal": f"arn:aws:iam::{OWNER}:user/ana", "action": "sqs:SendMessage", "resource": QUEUE},
        "identityPolicies": [
            {"Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs"}},
        ],
    }
    out = evaluate_document(doc).to_json()
    assert out["decision"] == "Unknown"
    assert "fewer than six ARN segments" in out["residual"][0]["reason"]


# ---- pattern requests -----------------------------------------------------------------------------


def test_part_named() -> None:
    assert part_named(f"{BUCKET}/public/*", f"{BUCKET}/*") == f"{BUCKET}/public/*"
    assert part_named(f"{BUCKET}/*", f"{BUCKET}/public/*") == f"{BUCKET}/public/*"
    assert part_named(f"{BUCKET}/*.csv", f"{BUCKET}/public/*") == f"{BUCKET}/public/*"  # overlap only
    assert part_named("arn:aws:s3:::other/*", f"{BUCKET}/*") is None


def _pattern_doc(allow: str, deny: str) -> dict[str, Any]:
    return {
        "request": {"principal": f"arn:aws:iam::{OWNER}:user/ana", "action": "s3:GetObject", "resource": f"{BUCKET}/*"},
        "identityPolicies": [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": allow},
                    {"Effect": "Deny", "Action": "s3:GetObject", "Resource": deny},
                ],
            }
        ],
    }


def test_pattern_request_grant_entirely_denied() -> None:
    out = evaluate_document(_pattern_doc(f"{BUCKET}/team/private/*", f"{BUCKET}/team/*")).to_json()
    assert (out["decision"], out["blocked_by"]) == ("ExplicitlyDenied", ["identity"])


def test_pattern_request_grant_partly_denied() -> None:
    out = evaluate_document(_pattern_doc(f"{BUCKET}/team/*", f"{BUCKET}/team/private/*")).to_json()
    assert out["decision"] == "Allowed"
