"""fixtures/small/org: organization.json, SCP/RCP chains per account, shared AWS managed policies."""

from __future__ import annotations

import pytest

from iamgraph.evaluation import PolicySet, Request, Result, evaluate, principal_from_arn
from iamgraph.evaluation.context import Context
from iamgraph.model.organization import OrgPolicyType
from iamgraph.model.policy import PolicyKind
from iamgraph.model.snapshot import Snapshot

MGMT, PROD, SEC = "999988887777", "111122223333", "444455556666"
ROOT, WORKLOADS, PRODOU = "r-a1b2", "ou-a1b2-workload", "ou-a1b2-prod0001"


def _levels(chain: tuple[object, ...]) -> list[tuple[str, list[str]]]:
    return [(level.name, [p.name for p in level.policies]) for level in chain]  # type: ignore[attr-defined]


def test_structure(org_snapshot: Snapshot) -> None:
    org = org_snapshot.organization
    assert org is not None
    assert org.management_account == MGMT
    assert list(org.roots) == [ROOT] and list(org.units) == [WORKLOADS, PRODOU]
    assert list(org.accounts) == [MGMT, PROD, SEC]
    assert list(org_snapshot.accounts) == [PROD, SEC]  # accounts/ holds two of the three
    assert org.accounts[PROD].path == (ROOT, WORKLOADS, PRODOU, PROD)
    assert org.units[PRODOU].parent == WORKLOADS


def test_policies_parsed_by_type(org_snapshot: Snapshot) -> None:
    org = org_snapshot.organization
    assert org is not None
    kinds = {p.name: (p.type, p.policy.kind) for p in org.policies.values()}
    assert kinds == {
        "FullAWSAccess": (OrgPolicyType.SCP, PolicyKind.SCP),
        "DenyLeaveOrgAndOtherRegions": (OrgPolicyType.SCP, PolicyKind.SCP),  # given as JSON text
        "EnforceOrgIdentities": (OrgPolicyType.RCP, PolicyKind.RCP),
    }
    assert [p.name for p in org.policies_attached_to(WORKLOADS, OrgPolicyType.SCP)] == [
        "FullAWSAccess",
        "DenyLeaveOrgAndOtherRegions",
    ]


@pytest.mark.parametrize(
    ("account", "scps", "rcps"),
    [
        pytest.param(
            PROD,
            [
                (ROOT, ["FullAWSAccess"]),
                (WORKLOADS, ["FullAWSAccess", "DenyLeaveOrgAndOtherRegions"]),
                (PRODOU, ["FullAWSAccess"]),
                (PROD, ["FullAWSAccess"]),
            ],
            [(ROOT, ["EnforceOrgIdentities"]), (WORKLOADS, []), (PRODOU, []), (PROD, [])],
            id="prod-nested-ous",
        ),
        pytest.param(
            SEC,
            [(ROOT, ["FullAWSAccess"]), (SEC, ["FullAWSAccess"])],
            [(ROOT, ["EnforceOrgIdentities"]), (SEC, [])],
            id="security-under-root",
        ),
        pytest.param(MGMT, [], [], id="management-exempt"),
    ],
)
def test_chains(org_snapshot: Snapshot, account: str, scps: list[object], rcps: list[object]) -> None:
    org = org_snapshot.organization
    assert org is not None
    assert _levels(org.scps_for(account)) == scps
    assert _levels(org.rcps_for(account)) == rcps


def test_chain_outside_organization(org_snapshot: Snapshot) -> None:
    org = org_snapshot.organization
    assert org is not None and org.scps_for("123456789012") == () and org.rcps_for("123456789012") == ()


def test_aws_managed_policy_parsed_once_per_load(org_snapshot: Snapshot) -> None:
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    prod = org_snapshot.accounts[PROD].managed_policies[arn]
    sec = org_snapshot.accounts[SEC].managed_policies[arn]
    assert prod.policy is sec.policy


def test_chain_feeds_the_evaluator(org_snapshot: Snapshot) -> None:
    """The chains are the evaluator's OrgLevel tuples: the Workloads OU's region deny applies to prod."""
    org = org_snapshot.organization
    assert org is not None
    role = f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole"
    identity = org_snapshot.accounts[PROD].identity_policies(role)

    def decide(region: str) -> tuple[Result, tuple[str, ...]]:
        request = Request(
            principal=principal_from_arn(role),
            action="ec2:RunInstances",
            resource="*",
            resource_account=PROD,
            context=Context.build({"aws:RequestedRegion": region}),
        )
        decision = evaluate(request, PolicySet(identity=identity, scps=org.scps_for(PROD)))
        return decision.result, decision.blocked_by

    assert decide("eu-west-1") == (Result.ALLOWED, ())
    assert decide("ap-south-1") == (Result.EXPLICITLY_DENIED, ("scp",))
