"""Each fixture under fixtures/small/bad/ raises one InputError naming the file and the element."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from iamgraph.errors import InputError
from iamgraph.ingest import load_snapshot

AD = "accounts/111122223333/authorization-details.json"
RES = "accounts/111122223333/resources.json"
CSV = "accounts/111122223333/credential-report.csv"
ORG = "organization.json"

# case: (where, element, words the message must contain)
CASES: dict[str, tuple[str, str, str]] = {
    "malformed-json": (AD, "", "not valid JSON"),
    "missing-managed-policy": (
        AD,
        "UserDetailList[3].AttachedManagedPolicies[0]",
        "managed policy arn:aws:iam::aws:policy/Foo not in Policies (AWS managed policies are listed when"
        " get-account-authorization-details runs without --filter",
    ),
    "missing-group": (AD, "UserDetailList[0].GroupList[1]", 'group "ghosts" not in GroupDetailList'),
    "missing-boundary": (AD, "RoleDetailList[0].PermissionsBoundary", "policy/NoSuchBoundary not in Policies"),
    "bad-inline-policy": (
        AD,
        "UserDetailList[0].UserPolicyList[0].PolicyDocument.Statement[0].Effect",
        'must be "Allow" or "Deny"',
    ),
    "bad-url-encoded-policy": (AD, "RoleDetailList[0].AssumeRolePolicyDocument", "not valid JSON"),
    "no-default-version": (AD, "Policies[0].PolicyVersionList", "IsDefaultVersion"),
    "truncated-output": (AD, "IsTruncated", "every page"),
    "missing-list": (AD, "", 'missing "RoleDetailList"'),
    "wrong-account-arn": (AD, "UserDetailList[0].Arn", "not in account 111122223333"),
    "duplicate-arn": (AD, "RoleDetailList[1].Arn", "duplicate ARN"),
    "instance-profile-unknown-role": (
        AD,
        "RoleDetailList[0].InstanceProfileList[0].Roles[0]",
        "role/gone not in RoleDetailList",
    ),
    "missing-authorization-details": (AD, "", "missing"),
    "unknown-file": ("accounts/111122223333/resource.json", "", "unknown snapshot entry"),
    "bad-account-dir": ("accounts/prod", "", "12-digit account id"),
    "resources-unknown-key": (RES, "resources[1].policies", "unknown key"),
    "resources-unknown-role": (RES, "resources[0].roles[0]", "role/missing not in RoleDetailList"),
    "resource-bad-policy": (RES, "resources[0].policy.Statement[0].Principal", "missing"),
    "credential-report-bad-value": (CSV, "line 2, column mfa_active", '"MAYBE" is not true or false'),
    "credential-report-missing-column": (CSV, "line 1", "missing column(s) mfa_active"),
    "account-json-unknown-key": ("accounts/111122223333/account.json", "aliases", "unknown key"),
    "org-unknown-target": (ORG, "policies[1].targets[0]", 'target "ou-a1b2-missing1"'),
    "org-unknown-parent": (ORG, "accounts[1].parent", 'parent "ou-a1b2-nowhere1"'),
    "org-cycle": (ORG, "organizational_units[1].parent", "loops back"),
    "org-missing-scp": (ORG, "organizational_units[0]", "no SERVICE_CONTROL_POLICY"),
    "org-bad-type": (ORG, "policies[0].type", '"TAG_POLICY"'),
    "org-unknown-key": (ORG, "policy", "unknown key"),
    "account-not-in-org": ("accounts/555566667777", "", "not in organization.json"),
    "bare-two-accounts.json": ("bare-two-accounts.json", "RoleDetailList[0].Arn", "differs from account"),
    "bare-no-arn.json": ("bare-no-arn.json", "", "tells the account id"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_names_file_and_element(small: Path, case: str) -> None:
    where, element, words = CASES[case]
    with pytest.raises(InputError) as caught:
        load_snapshot(small / "bad" / case)
    error = caught.value
    assert (error.where, error.element) == (where, element)
    assert words in error.reason
    message = str(error)
    assert "\n" not in message
    assert message == ": ".join(part for part in (where, element, error.reason) if part)


def test_every_bad_fixture_has_an_expectation(small: Path) -> None:
    assert {p.name for p in (small / "bad").iterdir()} == set(CASES)


def test_missing_path() -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        load_snapshot("does/not/exist")


def test_empty_accounts_directory(tmp_path: Path) -> None:
    (tmp_path / "accounts").mkdir()
    with pytest.raises(InputError) as caught:
        load_snapshot(tmp_path)
    assert caught.value.where == "accounts/" and "no account" in caught.value.reason


def test_notes_beside_the_data_are_ignored(tmp_path: Path, small: Path) -> None:
    source = small / "single-account" / "accounts" / "111122223333" / "authorization-details.json"
    folder = tmp_path / "accounts" / "111122223333"
    folder.mkdir(parents=True)
    (folder / "authorization-details.json").write_bytes(source.read_bytes())
    (tmp_path / "EXPECTED.md").write_text("notes\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    assert list(load_snapshot(tmp_path).accounts) == ["111122223333"]


def _bare(tmp_path: Path, small: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    source = small / "single-account" / "accounts" / "111122223333" / "authorization-details.json"
    doc = json.loads(source.read_text(encoding="utf-8"))
    edit(doc)
    path = tmp_path / "details.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _deploy_versions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return next(p for p in doc["Policies"] if p["PolicyName"] == "DeployPolicy")["PolicyVersionList"]  # type: ignore[no-any-return]


def test_two_default_versions(tmp_path: Path, small: Path) -> None:
    path = _bare(tmp_path, small, lambda d: _deploy_versions(d)[1].update(IsDefaultVersion=True))
    with pytest.raises(InputError, match="2 versions have IsDefaultVersion true") as caught:
        load_snapshot(path)
    assert caught.value.where == "details.json" and caught.value.element == "Policies[3].PolicyVersionList"


def test_default_version_id_disagrees(tmp_path: Path, small: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["Policies"][3]["DefaultVersionId"] = "v1"

    with pytest.raises(InputError, match="is v1 but the default version in PolicyVersionList is v2"):
        load_snapshot(_bare(tmp_path, small, edit))


def test_inert_statements_are_reported_not_dropped(tmp_path: Path, small: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Effect"] = "allow"

    snapshot = load_snapshot(_bare(tmp_path, small, edit))
    assert len(snapshot.warnings) == 1
    assert snapshot.warnings[0].startswith("details.json: arn:aws:iam::111122223333:user/alice/inline/SelfManageMfa")
    assert snapshot.accounts["111122223333"].warnings == snapshot.warnings


def test_repeated_attachments_and_shared_ids_are_reported(tmp_path: Path, small: Path) -> None:
    """A managed policy listed twice on one entity counts once and is said; two entities with one unique id
    (IAM ids are unique: an edited or merged file) load with a warning naming both."""

    def edit(doc: dict[str, Any]) -> None:
        role = doc["RoleDetailList"][0]
        attached = role["AttachedManagedPolicies"]
        assert attached, "the fixture's first role has an attached policy"
        attached.append(dict(attached[0]))
        doc["RoleDetailList"][1]["RoleId"] = role["RoleId"]

    snapshot = load_snapshot(_bare(tmp_path, small, edit))
    roles = list(snapshot.accounts["111122223333"].roles.values())
    assert len(roles[0].attached_policy_arns) == len(set(roles[0].attached_policy_arns))
    twice, shared = snapshot.warnings
    assert twice.startswith("details.json: RoleDetailList[0].AttachedManagedPolicies[") and "attached twice" in twice
    assert roles[1].arn in shared and roles[0].arn in shared and roles[0].id in shared
