"""fixtures/small/single-account: counts, references, default versions, URL-decoding, companion files."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.ingest import load_snapshot
from iamgraph.model.policy import PolicyKind
from iamgraph.model.snapshot import Account, Snapshot

ACCOUNT = "111122223333"
IAM = f"arn:aws:iam::{ACCOUNT}"
DEPLOY = f"{IAM}:policy/DeployPolicy"
BOUNDARY = f"{IAM}:policy/boundaries/DeveloperBoundary"
BOB = f"{IAM}:user/engineering/bob"


def _account(snapshot: Snapshot) -> Account:
    assert list(snapshot.accounts) == [ACCOUNT]
    return snapshot.accounts[ACCOUNT]


def test_counts(single: Snapshot) -> None:
    account = _account(single)
    assert (len(account.users), len(account.groups), len(account.roles)) == (3, 2, 4)
    assert len(account.managed_policies) == 5
    assert len(account.instance_profiles) == 1
    assert len(account.resources) == 5
    assert single.organization is None
    assert single.warnings == ()


def test_ids_paths_tags(single: Snapshot) -> None:
    bob = _account(single).users[BOB]
    assert (bob.name, bob.id, bob.path) == ("bob", "AIDAQ3EGRD5UBOB000002", "/engineering/")
    assert bob.tags == {"team": "payments"}
    role = _account(single).roles[f"{IAM}:role/service-role/order-processor"]
    assert (role.id, role.path, role.service_linked) == ("AROAQ3EGRD5UORDERS001", "/service-role/", False)
    assert role.last_used is not None and role.last_used.region == "eu-west-1"


def test_default_version_only(single: Snapshot) -> None:
    deploy = _account(single).managed_policies[DEPLOY]
    assert deploy.default_version_id == "v2"
    assert [s.sid for s in deploy.policy.statements] == ["UpdateStorefront", "AssumeDeploy"]
    assert all("iam:*" not in s.actions for s in deploy.policy.statements)
    assert [v.version_id for v in deploy.other_versions] == ["v1"]
    assert deploy.other_versions[0].document["Statement"][0]["Sid"] == "TooBroad"
    boundary = _account(single).managed_policies[BOUNDARY]
    assert boundary.default_version_id == "v1"  # the default is listed second
    assert boundary.policy.statements[0].sid == "AllowWorkloadServices"


def test_managed_policy_names_and_kinds(single: Snapshot) -> None:
    policies = _account(single).managed_policies
    admin = policies["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert admin.aws_managed and not policies[DEPLOY].aws_managed
    assert admin.policy.name == admin.arn and admin.policy.kind is PolicyKind.IDENTITY
    boundary = policies[BOUNDARY].boundary
    assert boundary is not None and boundary.kind is PolicyKind.BOUNDARY
    assert policies[DEPLOY].boundary is None  # parsed as a boundary only where used as one


def test_url_encoded_documents_are_decoded(single: Snapshot) -> None:
    account = _account(single)
    inline = account.users[BOB].inline_policies[0]
    assert inline.name == "PassDeployRole"
    assert inline.policy.name == f"{BOB}/inline/PassDeployRole"
    assert inline.policy.statements[0].actions == ("iam:PassRole",)
    assert inline.policy.statements[0].conditions[0].values == ("lambda.amazonaws.com",)
    trust = account.roles[f"{IAM}:role/deploy"].trust_policy
    assert trust.kind is PolicyKind.TRUST and trust.name == f"{IAM}:role/deploy"
    assert trust.statements[0].principal is not None
    assert trust.statements[0].principal.aws == (f"{IAM}:user/automation/ci-bot",)


def test_groups_and_memberships(single: Snapshot) -> None:
    account = _account(single)
    assert account.users[f"{IAM}:user/alice"].group_arns == (f"{IAM}:group/admins",)
    assert account.groups[f"{IAM}:group/developers"].member_arns == (BOB,)
    assert account.users[f"{IAM}:user/automation/ci-bot"].group_arns == ()


def test_attachments_and_boundaries(single: Snapshot) -> None:
    account = _account(single)
    bob = account.users[BOB]
    assert bob.attached_policy_arns == ("arn:aws:iam::aws:policy/ReadOnlyAccess",)
    assert bob.boundary_arn == BOUNDARY
    assert bob.boundary is account.managed_policies[BOUNDARY].boundary
    deploy = account.roles[f"{IAM}:role/deploy"]
    assert deploy.boundary is bob.boundary  # one parse per boundary policy
    names = [p.name for p in account.identity_policies(BOB)]
    assert names == [
        f"{BOB}/inline/PassDeployRole",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        f"{IAM}:group/developers/inline/DevBucketWrite",
    ]


def test_instance_profiles(single: Snapshot) -> None:
    account = _account(single)
    profile = account.instance_profiles[f"{IAM}:instance-profile/web-server"]
    assert profile.role_arns == (f"{IAM}:role/web-server",)
    assert account.roles[f"{IAM}:role/web-server"].instance_profile_arns == (profile.arn,)


def test_resources(single: Snapshot) -> None:
    resources = _account(single).resources
    bucket = resources["arn:aws:s3:::acme-prod-reports"]
    assert bucket.type == "AWS::S3::Bucket" and bucket.tags == {"data-class": "confidential"}
    assert bucket.policy is not None and bucket.policy.kind is PolicyKind.RESOURCE
    assert bucket.policy.statements[0].conditions[0].key == "aws:SourceIp"
    key = next(r for r in resources.values() if r.type == "AWS::KMS::Key")
    assert key.policy is not None and key.policy.statements[0].sid == "EnableIAM"  # given as JSON text
    function = next(r for r in resources.values() if r.type == "AWS::Lambda::Function")
    assert function.policy is None
    assert function.role_arns == (f"{IAM}:role/service-role/order-processor",)


def test_credential_report_and_account_json(single: Snapshot) -> None:
    account = _account(single)
    assert account.alias == "acme-prod"
    assert account.password_policy is not None and account.password_policy["MinimumPasswordLength"] == 14
    assert account.summary is not None and account.summary["Roles"] == 4
    report = account.credential_report
    assert report is not None and [r.user for r in report] == ["<root_account>", "alice", "bob", "ci-bot"]
    root, _, bob, bot = report
    assert root.is_root and root.password_enabled is None and root.mfa_active
    assert bob.access_keys_active == (True, False) and not bob.mfa_active
    assert bot.password_enabled is False and bot.access_keys_active == (True, True)
    assert bob.columns["access_key_1_last_used_service"] == "s3"


def test_bare_file_is_one_account(small: Path, single: Snapshot) -> None:
    bare = load_snapshot(small / "single-account" / "accounts" / ACCOUNT / "authorization-details.json")
    account = _account(bare)
    expected = _account(single)
    assert account.users.keys() == expected.users.keys()
    assert account.roles.keys() == expected.roles.keys()
    assert account.managed_policies.keys() == expected.managed_policies.keys()
    assert account.resources == {} and account.credential_report is None and account.alias is None


def test_account_of(single: Snapshot) -> None:
    assert single.account_of(BOB) is single.accounts[ACCOUNT]
    assert single.account_of("arn:aws:iam::444455556666:root") is None
    assert single.account_of("not-an-arn") is None


def test_loading_pauses_the_cyclic_collector_and_restores_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading allocates millions of long-lived objects (the 50,000-principal snapshot loads in half the time
    with the collector paused); the collector runs again afterwards, also when loading fails."""
    import gc

    import iamgraph.ingest.load as load

    seen: list[bool] = []
    real = load._load_directory

    def spy(root: Path) -> Snapshot:
        seen.append(gc.isenabled())
        return real(root)

    monkeypatch.setattr(load, "_load_directory", spy)
    assert gc.isenabled()
    load_snapshot(Path(__file__).parents[3] / "fixtures" / "small" / "single-account")
    assert seen == [False] and gc.isenabled()

    def broken(root: Path) -> Snapshot:
        raise ValueError("boom")

    monkeypatch.setattr(load, "_load_directory", broken)
    with pytest.raises(ValueError, match="boom"):
        load_snapshot(Path(__file__).parents[3] / "fixtures" / "small" / "single-account")
    assert gc.isenabled()
