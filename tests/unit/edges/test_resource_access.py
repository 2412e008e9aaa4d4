"""resource-access: principal -> resource edges with actions by access level (S3 objects, Block Public Access)."""

from __future__ import annotations

from pathlib import Path

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.outside import ANYONE

from .estate_builder import Account, allow, arn, condition_keys, doc, graph, sids

BUCKET = "arn:aws:s3:::reports-bucket"
READER = arn("user", "reader")


def access(g: AccessGraph, source: str, target: str) -> list[str]:
    return sorted(a for e in g.edges_between(source, target) if e.kind is EdgeKind.ACCESS for a in e.actions)


def public_read(**extra: object) -> dict[str, object]:
    return doc(
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}
        | extra
    )


def test_object_actions_are_edges_to_the_bucket(tmp_path: Path) -> None:
    a = Account()
    a.user("reader", allow(["s3:GetObject", "s3:ListBucket"], [BUCKET, f"{BUCKET}/reports/*"], sid="Read"))
    a.resource(BUCKET, "AWS::S3::Bucket")
    g = graph(tmp_path, a)
    assert access(g, READER, BUCKET) == ["s3:GetObject", "s3:ListBucket"]
    (edge,) = [e for e in g.edges_between(READER, BUCKET) if e.kind is EdgeKind.ACCESS]
    assert "Read" in sids(edge) and "objects" in edge.note
    assert edge.access == {"List": ("s3:ListBucket",), "Read": ("s3:GetObject",)}


def test_a_deny_on_part_of_the_objects_does_not_remove_the_access(tmp_path: Path) -> None:
    a = Account()
    a.user(
        "reader",
        allow("s3:GetObject", f"{BUCKET}/*"),
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"{BUCKET}/secret/*"},
    )
    a.resource(BUCKET, "AWS::S3::Bucket")
    assert access(graph(tmp_path, a), READER, BUCKET) == ["s3:GetObject"]  # some objects stay readable


def test_a_deny_on_every_object_removes_it(tmp_path: Path) -> None:
    a = Account()
    a.user("reader", allow("s3:GetObject", f"{BUCKET}/*"), {"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    a.resource(BUCKET, "AWS::S3::Bucket")
    assert access(graph(tmp_path, a), READER, BUCKET) == []


def test_bucket_policy_conditions_stay_on_object_edges(tmp_path: Path) -> None:
    a = Account()
    a.user("reader", allow("s3:GetObject", f"{BUCKET}/*"))
    deny_outside = {
        "Sid": "OfficeOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"],
        "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    }
    a.resource(BUCKET, "AWS::S3::Bucket", policy=doc(deny_outside))
    (edge,) = [e for e in graph(tmp_path, a).edges_between(READER, BUCKET) if e.kind is EdgeKind.ACCESS]
    assert condition_keys(edge) == {"aws:SourceIp"}


def test_public_bucket_policy_gives_anyone_an_edge(tmp_path: Path) -> None:
    a = Account()
    a.resource(BUCKET, "AWS::S3::Bucket", policy=public_read())
    assert access(graph(tmp_path, a), ANYONE, BUCKET) == ["s3:GetObject"]


def test_restrict_public_buckets_blocks_the_public_grant(tmp_path: Path) -> None:
    for key in ("PublicAccessBlockConfiguration", "AccountPublicAccessBlockConfiguration"):
        a = Account()
        a.user("reader", allow("s3:GetObject", f"{BUCKET}/*"))
        a.resource(BUCKET, "AWS::S3::Bucket", policy=public_read(), properties={key: {"RestrictPublicBuckets": True}})
        g = graph(tmp_path / key, a)
        assert access(g, ANYONE, BUCKET) == [], key
        assert access(g, READER, BUCKET) == ["s3:GetObject"], key  # the owner's account keeps its access


def test_block_public_access_off_keeps_the_public_grant(tmp_path: Path) -> None:
    a = Account()
    off = {"PublicAccessBlockConfiguration": {"BlockPublicPolicy": True, "RestrictPublicBuckets": False}}
    a.resource(BUCKET, "AWS::S3::Bucket", policy=public_read(), properties=off)
    assert access(graph(tmp_path, a), ANYONE, BUCKET) == ["s3:GetObject"]
