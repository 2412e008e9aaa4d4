"""resource-access shares evaluations between resources and between principals; the edges must be those of
evaluating every candidate pair on its own (``share=False``), proof and conditions included."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from iamgraph.edges.base import DerivedEdge
from iamgraph.edges.techniques.resource_access import resource_access_edges
from iamgraph.graph.estate import Estate
from iamgraph.ingest import load_snapshot

ROOT = Path(__file__).resolve().parents[3]
GENERATOR = ROOT / "bench" / "generate.py"


def _edge(e: DerivedEdge) -> tuple[Any, ...]:
    proof = sorted((m.ref.layer.value, m.ref.policy, m.ref.index, str(m.ref.sid), str(m.level)) for m in e.proof)
    access = tuple(sorted((k, tuple(v)) for k, v in e.access.items()))
    return (e.source, e.target, e.kind, e.technique, e.actions, access, repr(e.conditions), tuple(proof), e.note)


def _same_edges(path: Path) -> int:
    estate = Estate(load_snapshot(path))
    shared = Counter(_edge(e) for e in resource_access_edges(estate))
    plain = Counter(_edge(e) for e in resource_access_edges(Estate(load_snapshot(path)), share=False))
    assert shared == plain
    return sum(plain.values())


@pytest.mark.parametrize("fixture", ["demo-org", "small/org", "small/single-account", "hostile"])
def test_the_fixtures(fixture: str) -> None:
    path = ROOT / "fixtures" / fixture
    assert _same_edges(path) >= (1 if fixture == "demo-org" else 0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_generated_estates(tmp_path: Path, seed: int) -> None:
    """Wildcards, NotAction/NotResource, Deny, conditions on principal and resource keys, boundaries, SCPs,
    RCPs, public and organisation-wide resource policies, cross-account trusts."""
    out = tmp_path / "estate"
    args = ["--principals", "120", "--accounts", "3", "--resources", "360", "--seed", str(seed), "--out", str(out)]
    subprocess.run([sys.executable, str(GENERATOR), *args], check=True, capture_output=True)
    assert _same_edges(out) > 1000


@pytest.mark.parametrize("order", [("named", "other"), ("other", "named")])
def test_principals_named_differently_by_one_statement_are_not_shared(tmp_path: Path, order: tuple[str, str]) -> None:
    """One bucket-policy statement names a role by its ARN and the whole account by its root: in the same
    account the ARN grant is enough by itself, the account grant needs an identity Allow. Two roles with
    the same (no) permissions get different answers, whichever is evaluated first."""
    from iamgraph.graph.build import build_graph

    from .estate_builder import ACCOUNT, Account, arn, doc, load, trust_service

    a = Account()
    for name in order:
        a.role(name, trust_service("ec2.amazonaws.com"))
    bucket = "arn:aws:s3:::shared-reports"
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": [arn("role", "named"), f"arn:aws:iam::{ACCOUNT}:root"]},
        "Action": "s3:GetObject",
        "Resource": f"{bucket}/*",
    }
    a.resource(bucket, "AWS::S3::Bucket", policy=doc(grant))
    g = build_graph(load(tmp_path, a))
    assert [e.actions for e in g.edges_between(arn("role", "named"), bucket)] == [("s3:GetObject",)]
    assert g.edges_between(arn("role", "other"), bucket) == []


@pytest.mark.parametrize("first", ["alice", "bob"])
def test_a_condition_with_a_policy_variable_is_the_principals_own(tmp_path: Path, first: str) -> None:
    """The condition reads a resource key, but its value is the caller's user name: two users with the same
    managed policy get different answers on the same queue."""
    from iamgraph.graph.build import build_graph

    from .estate_builder import Account, allow, arn, doc, load

    a = Account()
    own_queues = a.managed(
        "own-queues",
        doc(allow("sqs:SendMessage", Condition={"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}})),
    )
    for name in (first, "bob" if first == "alice" else "alice"):
        a.user(name, managed=(own_queues,))
    queue = "arn:aws:sqs:eu-west-1:111122223333:alice-jobs"
    a.resource(queue, "AWS::SQS::Queue", tags={"owner": "alice"})
    g = build_graph(load(tmp_path, a))
    assert [e.actions for e in g.edges_between(arn("user", "alice"), queue)] == [("sqs:SendMessage",)]
    assert g.edges_between(arn("user", "bob"), queue) == []


@pytest.mark.parametrize("share", [True, False])
def test_equal_parts_of_access_edges_are_one_object(tmp_path: Path, share: bool) -> None:
    """Equal action tuples, access-level groupings and proofs are one object each (millions of access
    edges carry a few hundred distinct values; the query layer also serialises shared parts once)."""
    out = tmp_path / "estate"
    args = ["--principals", "80", "--accounts", "2", "--resources", "240", "--seed", "5", "--out", str(out)]
    subprocess.run([sys.executable, str(GENERATOR), *args], check=True, capture_output=True)
    edges = list(resource_access_edges(Estate(load_snapshot(out)), share=share))
    assert len(edges) > 1000
    assert len({e.actions for e in edges}) < len(edges) / 5  # few distinct values ...
    assert len({id(e.actions) for e in edges}) == len({e.actions for e in edges})  # ... each one object
    assert len({id(e.access) for e in edges}) == len({tuple(e.access.items()) for e in edges})
    assert len({id(e.proof) for e in edges}) == len({e.proof for e in edges})


def test_principals_a_condition_treats_alike_share_one_evaluation(tmp_path: Path) -> None:
    """A bucket in another account grants the organisation's CI users by a condition on the caller's ARN,
    and a Deny in the users' shared policy reads their team tag. Users with other ARNs and tags but the same
    outcome of both conditions share one evaluation; a user the Deny catches, or the ARN condition refuses,
    does not share with them. The edges are those of evaluating every user on its own."""
    from .estate_builder import Account, allow, deny, doc, load

    a = Account()
    tagged = {"StringEquals": {"aws:PrincipalTag/team": "contractors"}}
    policy = a.managed("read-reports", doc(allow("s3:GetObject"), deny("s3:GetObject", Condition=tagged)))
    users = {"ci-build": "platform", "ci-test": "data", "ci-lint": "mobile", "ci-temp": "contractors", "alice": "data"}
    for name, team in users.items():
        a.user(name, managed=(policy,))
        a.users[-1]["Tags"] = [{"Key": "team", "Value": team}]
    bucket = "arn:aws:s3:::other-account-reports"
    grant = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"{bucket}/*",
        "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/ci-*"}},
    }
    other = Account(id="999988887777")
    other.resource(bucket, "AWS::S3::Bucket", policy=doc(grant))
    load(tmp_path, a, other)
    path = tmp_path / "snapshot"
    asked: list[str] = []
    estate = Estate(load_snapshot(path))
    evaluate = estate.evaluate

    def counting(principal: Any, action: str, resource: str, **kwargs: Any) -> Any:
        if resource == f"{bucket}/*" and principal.arn.startswith("arn:aws:iam::111122223333:"):
            asked.append(principal.arn)  # (anyone outside the estate is asked as well)
        return evaluate(principal, action, resource, **kwargs)

    estate.evaluate = counting  # type: ignore[method-assign]
    readers = {e.source.rsplit("/", 1)[-1] for e in resource_access_edges(estate) if e.target == bucket}
    assert readers == {"ci-build", "ci-test", "ci-lint"}
    assert len(asked) == 3, asked  # the three readers, ci-temp (denied) and alice (refused): three classes
    assert _same_edges(path) >= 3
