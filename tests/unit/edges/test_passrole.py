"""passrole: iam:PassRole to a new compute resource + the service actions -> escalate to the role."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.edges.base import EdgeKind
from iamgraph.edges.techniques.passrole import RECIPES

from .estate_builder import (
    ACCOUNT,
    Account,
    allow,
    arn,
    deny,
    doc,
    edges,
    graph,
    none,
    one,
    scp_org,
    sids,
    trust_service,
)

ATTACKER = arn("user", "attacker")
ROLE = arn("role", "runner")
LAMBDA = "iam:PassRole+lambda:CreateFunction+lambda:InvokeFunction"
TO_LAMBDA = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def _lambda_estate(*statements: dict[str, object], trust: str = "lambda.amazonaws.com") -> Account:
    a = Account()
    a.user("attacker", *statements)
    a.role("runner", trust_service(trust, sid="LambdaTrust"))
    return a


def test_pass_role_to_a_new_lambda(tmp_path: Path) -> None:
    a = _lambda_estate(
        allow("iam:PassRole", ROLE, sid="Pass", Condition=TO_LAMBDA),
        allow(["lambda:CreateFunction", "lambda:InvokeFunction"], sid="Lambda"),
    )
    e = one(graph(tmp_path, a), ATTACKER, ROLE, LAMBDA)
    assert e.kind is EdgeKind.ESCALATE
    assert e.actions == ("iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction")
    assert sids(e) == {"Pass", "Lambda", "LambdaTrust"}  # the trust statement shows the service may assume R
    assert e.conditions is True  # iam:PassedToService is known: the service the role is passed to


def test_passed_to_another_service(tmp_path: Path) -> None:
    to_ec2 = {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    a = _lambda_estate(allow("iam:PassRole", Condition=to_ec2), allow(["lambda:*"]))
    none(graph(tmp_path, a), ATTACKER, ROLE)


def test_role_that_does_not_trust_the_service(tmp_path: Path) -> None:
    a = _lambda_estate(allow(["iam:PassRole", "lambda:*"]), trust="ecs-tasks.amazonaws.com")
    none(graph(tmp_path, a), ATTACKER, ROLE)


def test_missing_service_action(tmp_path: Path) -> None:
    a = _lambda_estate(allow(["iam:PassRole", "lambda:CreateFunction"]))
    none(graph(tmp_path, a), ATTACKER, ROLE)


def test_scp_denying_the_service_action(tmp_path: Path) -> None:
    a = _lambda_estate(allow(["iam:PassRole", "lambda:*"]))
    org = scp_org(doc(deny("lambda:CreateFunction")), a.id)
    none(graph(tmp_path, a, organization=org), ATTACKER, ROLE)


def test_boundary_without_pass_role(tmp_path: Path) -> None:
    a = _lambda_estate(allow(["iam:PassRole", "lambda:*"]))
    a.users[0]["PermissionsBoundary"] = {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": a.managed("LambdaOnly", doc(allow("lambda:*"))),
    }
    none(graph(tmp_path, a), ATTACKER, ROLE)


def test_invocation_through_a_function_policy_the_source_adds(tmp_path: Path) -> None:
    a = _lambda_estate(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:AddPermission"], sid="NoInvoke"))
    e = one(graph(tmp_path, a), ATTACKER, ROLE, "iam:PassRole+lambda:CreateFunction+lambda:AddPermission"
            "+lambda:InvokeFunction")  # fmt: skip
    assert "function policy" in e.note and sids(e) == {"NoInvoke", "LambdaTrust"}


def test_only_the_first_alternative_that_works(tmp_path: Path) -> None:
    a = _lambda_estate(allow(["iam:PassRole", "lambda:*"]))
    found = [e.technique for e in edges(graph(tmp_path, a), EdgeKind.ESCALATE) if e.target == ROLE]
    assert found == [LAMBDA]


def test_ec2_needs_an_instance_profile(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow(["iam:PassRole", "ec2:RunInstances"]))
    with_profile = a.role("with-profile", trust_service("ec2.amazonaws.com"), instance_profile=True)
    bare = a.role("bare", trust_service("ec2.amazonaws.com"))
    g = graph(tmp_path, a)
    one(g, ATTACKER, with_profile, "iam:PassRole+ec2:RunInstances")
    none(g, ATTACKER, bare)


def test_ec2_with_a_new_instance_profile(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow(["iam:PassRole", "ec2:RunInstances", "iam:CreateInstanceProfile",
                              "iam:AddRoleToInstanceProfile"]))  # fmt: skip
    bare = a.role("bare", trust_service("ec2.amazonaws.com"))
    e = one(graph(tmp_path, a), ATTACKER, bare, "iam:PassRole+ec2:RunInstances")
    assert "iam:CreateInstanceProfile" in e.actions and "instance profile" in e.note


def test_roles_of_other_accounts_and_service_linked_roles(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow(["iam:PassRole", "lambda:*"]))
    slr = a.role("AWSServiceRoleForLambdaX", trust_service("lambda.amazonaws.com"), path="/aws-service-role/x/")
    b = Account(id="444455556666")
    other = b.role("runner", trust_service("lambda.amazonaws.com"))
    g = graph(tmp_path, a, b)
    none(g, ATTACKER, slr)
    none(g, ATTACKER, other)


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.technique)
def test_every_recipe(tmp_path: Path, recipe: object) -> None:
    """Each recipe gives its edge when the source holds exactly its permissions (and nothing else)."""
    from iamgraph.edges.techniques.passrole import SELF_GRANTED, Recipe

    assert isinstance(recipe, Recipe)
    a = Account()
    actions = ["iam:PassRole", *(x for x in recipe.actions if not x.endswith(SELF_GRANTED))]
    service = recipe.services[0]
    if service == "ec2.amazonaws.com":
        actions += ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"]
    a.user("attacker", allow(actions))
    if service == "cognito-identity.amazonaws.com":
        trust = doc({"Effect": "Allow", "Principal": {"Federated": service}, "Action": "sts:AssumeRoleWithWebIdentity"})
    else:
        trust = trust_service(service)
    a.role("runner", trust)
    g = graph(tmp_path, a)
    found = {e.technique for e in g.edges_between(ATTACKER, f"arn:aws:iam::{ACCOUNT}:role/runner")}
    # this recipe, or an earlier alternative of its group that needs a subset of its permissions
    fits = {r.technique for r in RECIPES if r.group == recipe.group and set(r.actions) <= set(recipe.actions)}
    assert found & fits, (recipe.technique, found)


def test_a_trust_of_anyone_is_a_trust_of_every_service(tmp_path: Path) -> None:
    """A trust statement with ``"Principal": "*"`` names every service (the prefilter of the roles trusting a
    service keeps it), here under the condition that the request comes from the account."""
    a = Account()
    a.user(
        "attacker",
        allow("iam:PassRole", ROLE, sid="Pass"),
        allow(["lambda:CreateFunction", "lambda:InvokeFunction"], sid="Lambda"),
    )
    own = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    a.role(
        "runner",
        doc({"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": own}),
    )
    e = one(graph(tmp_path, a), ATTACKER, ROLE, LAMBDA)
    assert "Anyone" in sids(e)
