"""fixtures/demo-org: the bundled demo organization loads, matches docs/schemas and has the documented shape.

What a reviewer should find in it is listed in fixtures/demo-org/EXPECTED.md; these tests pin the inventory
that document relies on (accounts, principals, resources, organization chains, credential findings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iamgraph.ingest import load_snapshot
from iamgraph.model.organization import OrgPolicyType
from iamgraph.model.snapshot import Snapshot

ROOT_DIR = Path(__file__).resolve().parents[3]
DEMO = ROOT_DIR / "fixtures" / "demo-org"
SCHEMAS = ROOT_DIR / "docs" / "schemas"
BY_NAME = {
    "authorization-details.json": "authorization-details.schema.json",
    "resources.json": "resources.schema.json",
    "organization.json": "organization.schema.json",
    "account.json": "account.schema.json",
}

MGMT, SEC, LOG, SHARED, PROD, DEV = (
    "381492650173",
    "527164038291",
    "649203817562",
    "730158246937",
    "846271093514",
    "915630472846",
)
ROOT, SECURITY_OU, INFRA_OU, WORKLOADS_OU, PROD_OU, DEV_OU = (
    "r-7hq2",
    "ou-7hq2-s3cur1ty",
    "ou-7hq2-1nfra5vc",
    "ou-7hq2-w0rk1oad",
    "ou-7hq2-pr0d4k2x",
    "ou-7hq2-d3v8m1q5",
)


@pytest.fixture(scope="module")
def demo() -> Snapshot:
    return load_snapshot(DEMO)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _data_files() -> list[Path]:
    return sorted(p for p in DEMO.rglob("*.json"))


def test_every_data_file_has_a_schema() -> None:
    names = {p.name for p in _data_files()}
    assert names == set(BY_NAME)
    assert len(_data_files()) == 1 + 3 * 6  # organization.json + three JSON files per account


@pytest.mark.parametrize("path", _data_files(), ids=lambda p: str(p.relative_to(DEMO)))
def test_file_matches_schema(path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(_load(SCHEMAS / BY_NAME[path.name]))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_load(path))]
    assert errors == []


def test_loads_without_warnings(demo: Snapshot) -> None:
    assert demo.warnings == ()
    assert all(a.warnings == () for a in demo.accounts.values())


@pytest.mark.parametrize(
    ("account", "alias", "users", "groups", "roles", "resources"),
    [
        (MGMT, "example-org-management", 2, 0, 4, 2),
        (SEC, "example-security-audit", 3, 2, 3, 1),
        (LOG, "example-log-archive", 0, 0, 2, 1),
        (SHARED, "example-shared-services", 2, 1, 4, 3),
        (PROD, "example-prod", 4, 1, 13, 12),
        (DEV, "example-dev", 4, 2, 5, 3),
    ],
)
def test_account_inventory(
    demo: Snapshot, account: str, alias: str, users: int, groups: int, roles: int, resources: int
) -> None:
    a = demo.accounts[account]
    assert a.alias == alias
    assert (len(a.users), len(a.groups), len(a.roles), len(a.resources)) == (users, groups, roles, resources)
    assert a.credential_report is not None and len(a.credential_report) == users + 1  # + the root user row
    assert a.summary is not None
    assert (a.summary["Users"], a.summary["Groups"], a.summary["Roles"]) == (users, groups, roles)


def test_organization_structure(demo: Snapshot) -> None:
    org = demo.organization
    assert org is not None
    assert org.management_account == MGMT
    assert list(org.accounts) == [MGMT, SEC, LOG, SHARED, PROD, DEV]
    assert set(demo.accounts) == set(org.accounts)
    assert list(org.units) == [SECURITY_OU, INFRA_OU, WORKLOADS_OU, PROD_OU, DEV_OU]
    assert org.accounts[PROD].path == (ROOT, WORKLOADS_OU, PROD_OU, PROD)
    scps = [p.name for p in org.policies.values() if p.type is OrgPolicyType.SCP]
    rcps = [p.name for p in org.policies.values() if p.type is OrgPolicyType.RCP]
    assert scps == [
        "FullAWSAccess",
        "DenyLeaveOrganization",
        "ProtectSecurityBaseline",
        "RegionRestriction",
        "DenyIAMUserCredentialsInProd",
    ]
    assert rcps == ["DataPerimeterIdentity"]


def _chain(levels: tuple[Any, ...]) -> list[tuple[str, list[str]]]:
    return [(level.name, [p.name for p in level.policies]) for level in levels]


def test_chains(demo: Snapshot) -> None:
    org = demo.organization
    assert org is not None
    assert org.scps_for(MGMT) == () and org.rcps_for(MGMT) == ()  # the management account is exempt
    root_scps = ["FullAWSAccess", "DenyLeaveOrganization", "ProtectSecurityBaseline"]
    assert _chain(org.scps_for(PROD)) == [
        (ROOT, root_scps),
        (WORKLOADS_OU, ["FullAWSAccess", "RegionRestriction"]),
        (PROD_OU, ["FullAWSAccess", "DenyIAMUserCredentialsInProd"]),
        (PROD, ["FullAWSAccess"]),
    ]
    assert _chain(org.scps_for(SHARED)) == [
        (ROOT, root_scps),
        (INFRA_OU, ["FullAWSAccess"]),
        (SHARED, ["FullAWSAccess"]),
    ]
    assert _chain(org.rcps_for(DEV)) == [(ROOT, ["DataPerimeterIdentity"]), (WORKLOADS_OU, []), (DEV_OU, []), (DEV, [])]


def test_principals_the_expected_paths_rely_on(demo: Snapshot) -> None:
    prod, dev = demo.accounts[PROD], demo.accounts[DEV]
    assert f"arn:aws:iam::{DEV}:policy/DeveloperBoundary" == dev.users[f"arn:aws:iam::{DEV}:user/dev-bob"].boundary_arn
    assert dev.users[f"arn:aws:iam::{DEV}:user/dev-alice"].boundary_arn is None
    contractor = dev.managed_policies[f"arn:aws:iam::{DEV}:policy/contractors/ContractorAccess"]
    assert contractor.default_version_id == "v2" and [v.version_id for v in contractor.other_versions] == ["v1"]
    runner = prod.roles[f"arn:aws:iam::{PROD}:role/ec2/ops-runner-role"]
    assert runner.instance_profile_arns == (f"arn:aws:iam::{PROD}:instance-profile/ops-runner-profile",)
    legacy = prod.roles[f"arn:aws:iam::{PROD}:role/vendor/LegacyBackupVendor"]
    assert legacy.tags["dp:exclude:identity"] == "true"
    by_type: dict[str, int] = {}
    for a in demo.accounts.values():
        for r in a.resources.values():
            by_type[r.type] = by_type.get(r.type, 0) + 1
    assert by_type == {
        "AWS::CloudTrail::Trail": 1,
        "AWS::IAM::SAMLProvider": 1,
        "AWS::IAM::OIDCProvider": 2,
        "AWS::SNS::Topic": 2,
        "AWS::S3::Bucket": 5,
        "AWS::CodeBuild::Project": 1,
        "AWS::KMS::Key": 2,
        "AWS::SecretsManager::Secret": 1,
        "AWS::Lambda::Function": 3,
        "AWS::EC2::Instance": 1,
        "AWS::SQS::Queue": 1,
        "AWS::CloudFormation::Stack": 1,
        "AWS::DynamoDB::Table": 1,
    }


def test_aws_managed_policies_are_shared(demo: Snapshot) -> None:
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    holders = [a for a in demo.accounts.values() if admin in a.managed_policies]
    assert len(holders) == 6
    assert len({id(a.managed_policies[admin].policy) for a in holders}) == 1  # parsed once per load


def test_credential_findings(demo: Snapshot) -> None:
    root_keys = [
        a.id
        for a in demo.accounts.values()
        for r in a.credential_report or ()
        if r.is_root and any(r.access_keys_active)
    ]
    root_without_mfa = [
        a.id for a in demo.accounts.values() for r in a.credential_report or () if r.is_root and not r.mfa_active
    ]
    console_no_mfa = sorted(
        r.arn
        for a in demo.accounts.values()
        for r in a.credential_report or ()
        if not r.is_root and r.password_enabled and not r.mfa_active
    )
    two_keys = sorted(
        r.arn for a in demo.accounts.values() for r in a.credential_report or () if all(r.access_keys_active)
    )
    assert root_keys == [MGMT]
    assert root_without_mfa == [PROD]
    assert console_no_mfa == [
        f"arn:aws:iam::{MGMT}:user/legacy-admin",
        f"arn:aws:iam::{PROD}:user/support/support-sam",
        f"arn:aws:iam::{DEV}:user/contractors/contractor-eve",
    ]
    assert two_keys == [
        f"arn:aws:iam::{MGMT}:user/automation/org-automation",
        f"arn:aws:iam::{SHARED}:user/automation/artifact-uploader",
    ]


def test_password_policies(demo: Snapshot) -> None:
    assert demo.accounts[LOG].password_policy is None
    weak = demo.accounts[DEV].password_policy
    assert weak is not None and weak["MinimumPasswordLength"] == 8 and weak["RequireSymbols"] is False
    for account in (MGMT, SEC, SHARED, PROD):
        policy = demo.accounts[account].password_policy
        assert policy is not None and policy["MinimumPasswordLength"] >= 14
