"""Takeover edges made once per class of sources the engine cannot tell apart (``takeover._source_class``)
and copied to the class's other sources. The graph must be the one of making every source's edges on its
own; sources a resource policy names, or whose conditions decide otherwise, keep edges of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.edges.techniques import takeover
from iamgraph.export import to_json
from iamgraph.graph.build import build_graph
from iamgraph.ingest import load_snapshot

from .estate_builder import ACCOUNT, OTHER, Account, allow, arn, demo_or_generated, doc, graph, none, one, trust_service

UPDATE = "lambda:UpdateFunctionCode"


def _function(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:eu-west-1:{account}:function:{name}"


@pytest.mark.parametrize("seed", [None, 3, 11])
def test_class_edges_equal_each_source_on_its_own(
    seed: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = demo_or_generated(tmp_path, seed, principals=150, accounts=3, resources=300)
    copied = 0
    source_class = takeover._source_class

    def counted(*args: object) -> tuple[object, ...] | None:
        nonlocal copied
        key = source_class(*args)  # type: ignore[arg-type]
        copied += key is not None
        return key

    with monkeypatch.context() as m:
        m.setattr(takeover, "_source_class", counted)
        classes = to_json(build_graph(load_snapshot(path), resource_access="eager"))
    with monkeypatch.context() as m:
        m.setattr(takeover, "_source_class", lambda *args: None)  # every source on its own
        alone = to_json(build_graph(load_snapshot(path), resource_access="eager"))
    assert classes == alone
    if seed is not None:
        assert copied > 0  # sources were put in classes: the comparison means something


def test_a_source_of_a_class_gets_the_edge_to_another_members_role(tmp_path: Path) -> None:
    """Two roles with the same policy, each the role of a function the other can update: each gets an edge
    to the other's role and none to itself, whichever of them the class's edges were made for."""
    a = Account()
    shared = a.managed("deployer", doc(allow(UPDATE)))
    for name in ("runner-a", "runner-b"):
        a.role(name, trust_service("lambda.amazonaws.com"), managed=(shared,))
        a.resource(_function(name), "AWS::Lambda::Function", arn("role", name))
    g = graph(tmp_path, a)
    one(g, arn("role", "runner-a"), arn("role", "runner-b"), UPDATE)
    one(g, arn("role", "runner-b"), arn("role", "runner-a"), UPDATE)
    for name in ("runner-a", "runner-b"):
        none(g, arn("role", name), arn("role", name), UPDATE)


def test_a_source_a_resource_policy_names_keeps_its_own_edges(tmp_path: Path) -> None:
    """The function's policy denies one of two users with the same policy: only the other gets the edge."""
    a = Account()
    shared = a.managed("deployer", doc(allow(UPDATE)))
    a.user("alice", managed=(shared,))
    a.user("bob", managed=(shared,))
    a.role("runner", trust_service("lambda.amazonaws.com"))
    denied = {"Effect": "Deny", "Principal": {"AWS": arn("user", "bob")}, "Action": UPDATE, "Resource": "*"}
    a.resource(_function("orders"), "AWS::Lambda::Function", arn("role", "runner"), policy=doc(denied))
    g = graph(tmp_path, a)
    one(g, arn("user", "alice"), arn("role", "runner"), UPDATE)
    none(g, arn("user", "bob"), arn("role", "runner"), UPDATE)


def test_sources_whose_conditions_decide_otherwise_are_apart(tmp_path: Path) -> None:
    """The same policy, allowing only the team tagged "deploy": the tag tells the two users apart."""
    a = Account()
    tagged = allow(UPDATE, Condition={"StringEquals": {"aws:PrincipalTag/team": "deploy"}})
    shared = a.managed("deployer", doc(tagged))
    a.user("alice", managed=(shared,))
    a.users[-1]["Tags"] = [{"Key": "team", "Value": "deploy"}]
    a.user("bob", managed=(shared,))
    a.users[-1]["Tags"] = [{"Key": "team", "Value": "sales"}]
    a.role("runner", trust_service("lambda.amazonaws.com"))
    a.resource(_function("orders"), "AWS::Lambda::Function", arn("role", "runner"))
    g = graph(tmp_path, a)
    assert not one(g, arn("user", "alice"), arn("role", "runner"), UPDATE).conditional
    none(g, arn("user", "bob"), arn("role", "runner"), UPDATE)


def test_an_allow_with_not_principal_lets_no_other_account_in(tmp_path: Path) -> None:
    """NotPrincipal is supported with Deny only (spec section 6.4): a function policy allowing everyone but
    one user grants nothing, so a principal of another account gets no edge."""
    a = Account()
    a.role("runner", trust_service("lambda.amazonaws.com"))
    everyone_else = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": arn("user", "nobody")},
        "Action": UPDATE,
        "Resource": _function("orders"),
    }
    a.resource(_function("orders"), "AWS::Lambda::Function", arn("role", "runner"), policy=doc(everyone_else))
    b = Account(id=OTHER)
    attacker = b.user("attacker", allow(UPDATE))
    g = graph(tmp_path, a, b)
    none(g, attacker, arn("role", "runner"), UPDATE)


def test_a_grant_to_one_account_lets_only_that_account_in(tmp_path: Path) -> None:
    a = Account()
    a.role("runner", trust_service("lambda.amazonaws.com"))
    grant = {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": UPDATE, "Resource": _function("orders")}
    a.resource(_function("orders"), "AWS::Lambda::Function", arn("role", "runner"), policy=doc(grant))
    b = Account(id=OTHER)
    attacker = b.user("attacker", allow(UPDATE))
    c = Account(id="777788889999")
    outsider = c.user("outsider", allow(UPDATE))
    g = graph(tmp_path, a, b, c)
    one(g, attacker, arn("role", "runner"), UPDATE)
    none(g, outsider, arn("role", "runner"), UPDATE)
