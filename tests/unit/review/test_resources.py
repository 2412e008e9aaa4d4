"""Resource policies: public (and neutralised), cross-account, bucket Allow statements without conditions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .builder import ACCOUNT, ORG_ID, SIBLING, VENDOR, Acct, doc, of, organization, root, run, subjects

BUCKET = "arn:aws:s3:::shop-assets"
QUEUE = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders"


def grant(
    principal: Any, actions: str | list[str], resources: str | list[str], sid: str = "Grant", **extra: Any
) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": actions, "Resource": resources, **extra}


def test_public_bucket_read(tmp_path: Path) -> None:
    a = Acct()
    a.resource(BUCKET, "AWS::S3::Bucket", policy=doc(grant("*", "s3:GetObject", f"{BUCKET}/*", sid="PublicRead")))
    r = run(tmp_path, a)
    [f] = of(r, "public-resource-policy")
    assert f["severity"] == "high" and f["evidence"]["details"]["actions"] == {"Read": ["s3:GetObject"]}
    assert f["evidence"]["statements"][0]["sid"] == "PublicRead" and f["evidence"]["resources"] == [BUCKET]
    assert subjects(r, "bucket-policy-without-conditions") == {BUCKET}


def test_public_write_is_critical(tmp_path: Path) -> None:
    a = Acct()
    a.resource(QUEUE, "AWS::SQS::Queue", policy=doc(grant("*", "sqs:SendMessage", QUEUE)))
    [f] = of(run(tmp_path, a), "public-resource-policy")
    assert f["severity"] == "critical" and f["evidence"]["paths"], "the graph's edge from anyone"
    assert f["evidence"]["paths"][0]["hops"][0]["source"] == "*"


def test_block_public_access_neutralises(tmp_path: Path) -> None:
    a = Acct()
    a.resource(
        BUCKET,
        "AWS::S3::Bucket",
        policy=doc(grant("*", "s3:GetObject", f"{BUCKET}/*")),
        properties={"PublicAccessBlockConfiguration": {"RestrictPublicBuckets": True}},
    )
    [f] = of(run(tmp_path, a), "public-resource-policy")
    assert f["severity"] == "low" and not f["evidence"]["details"]["effective"]


def test_pinned_grant_is_not_public(tmp_path: Path) -> None:
    a = Acct()
    pinned = grant("*", "s3:GetObject", f"{BUCKET}/*", Condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}})
    a.resource(BUCKET, "AWS::S3::Bucket", policy=doc(pinned))
    r = run(tmp_path, a, org=organization(ACCOUNT))
    assert not of(r, "public-resource-policy") and not of(r, "bucket-policy-without-conditions")


def test_cross_account_outside_and_inside(tmp_path: Path) -> None:
    a = Acct()
    policy = doc(
        grant({"AWS": f"arn:aws:iam::{VENDOR}:root"}, "sqs:SendMessage", QUEUE, sid="Vendor"),
        grant({"AWS": SIBLING}, "sqs:ReceiveMessage", QUEUE, sid="Sibling"),
        grant({"AWS": root(ACCOUNT)}, "sqs:*", QUEUE, sid="Own"),
    )
    a.resource(QUEUE, "AWS::SQS::Queue", policy=policy)
    r = run(tmp_path, a, Acct(id=SIBLING), org=organization(ACCOUNT, SIBLING))
    found = {f["id"].rsplit("#", 1)[-1]: f for f in of(r, "cross-account-resource-policy")}
    assert set(found) == {VENDOR, SIBLING}
    assert found[VENDOR]["severity"] == "medium" and found[VENDOR]["evidence"]["details"]["effective"]
    assert found[VENDOR]["evidence"]["statements"][0]["sid"] == "Vendor"
    assert found[SIBLING]["severity"] == "info"


def test_cross_account_blocked_by_rcp(tmp_path: Path) -> None:
    perimeter = doc(
        {
            "Sid": "Perimeter",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID}},
        }
    )
    a = Acct()
    a.resource(QUEUE, "AWS::SQS::Queue", policy=doc(grant({"AWS": VENDOR}, "sqs:SendMessage", QUEUE)))
    [f] = of(run(tmp_path, a, org=organization(ACCOUNT, rcps=(perimeter,))), "cross-account-resource-policy")
    assert f["severity"] == "low" and f["evidence"]["details"]["blocked_by"] == ["rcp"]


def test_bucket_conditions(tmp_path: Path) -> None:
    a = Acct()
    tls = {"Bool": {"aws:SecureTransport": "true"}}
    a.resource(
        BUCKET, "AWS::S3::Bucket", policy=doc(grant({"AWS": root()}, "s3:GetObject", f"{BUCKET}/*", Condition=tls))
    )
    assert not of(run(tmp_path, a), "bucket-policy-without-conditions")
