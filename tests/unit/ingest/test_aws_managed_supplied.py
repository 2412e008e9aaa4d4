"""aws-managed-policies.json: the AWS managed policies that authorization-details files collected with
``--filter`` leave out, supplied once for the snapshot. An account's own Policies list comes first; the
file holds AWS managed policies only; bad input names the file and the element."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from iamgraph.errors import InputError
from iamgraph.graph.build import build_graph
from iamgraph.ingest import load_snapshot

SMALL = Path(__file__).resolve().parents[3] / "fixtures" / "small"
FOO = "arn:aws:iam::aws:policy/Foo"  # attached to u3 in the fixture; its file lists no AWS managed policy
U3 = "arn:aws:iam::111122223333:user/u3"
AD = "accounts/111122223333/authorization-details.json"


def _policy(arn: str, statement: dict[str, Any], *, version: str = "v1") -> dict[str, Any]:
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "PolicyId": "ANPA" + arn.rsplit("/", 1)[-1].upper().ljust(17, "0")[:17],
        "Arn": arn,
        "Path": "/",
        "DefaultVersionId": version,
        "AttachmentCount": 1,
        "IsAttachable": True,
        "PolicyVersionList": [
            {
                "Document": {"Version": "2012-10-17", "Statement": [statement]},
                "VersionId": version,
                "IsDefaultVersion": True,
            }
        ],
    }


ADMIN = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def _snapshot(tmp_path: Path, supplied: Any) -> Path:
    root = tmp_path / "snapshot"
    shutil.copytree(SMALL / "bad" / "missing-managed-policy", root)
    if supplied is not None:
        (root / "aws-managed-policies.json").write_text(json.dumps(supplied))
    return root


def test_without_it_the_error_says_where_to_put_them(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_snapshot(_snapshot(tmp_path, None))
    assert err.value.where == AD and "aws-managed-policies.json" in str(err.value)


@pytest.mark.parametrize("shape", ["filtered-output", "policies-only"])
def test_a_supplied_policy_is_attached_and_evaluated(tmp_path: Path, shape: str) -> None:
    policies = [_policy(FOO, ADMIN), _policy("arn:aws:iam::aws:policy/Unused", ADMIN)]
    doc: dict[str, Any] = {"Policies": policies}
    if shape == "filtered-output":  # aws iam get-account-authorization-details --filter AWSManagedPolicy
        doc = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": policies}
    snap = load_snapshot(_snapshot(tmp_path, doc))
    account = snap.accounts["111122223333"]
    assert FOO in account.managed_policies
    assert "arn:aws:iam::aws:policy/Unused" not in account.managed_policies  # only what the account attaches
    g = build_graph(snap, workers=1)
    assert g.graph.nodes[U3].get("admin"), "the supplied AdministratorAccess-like policy makes u3 admin"


def test_the_accounts_own_list_comes_first(tmp_path: Path) -> None:
    root = _snapshot(tmp_path, {"Policies": [_policy(FOO, ADMIN, version="v9")]})
    details = json.loads((root / AD).read_text())
    details["Policies"].append(_policy(FOO, {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}))
    (root / AD).write_text(json.dumps(details))
    snap = load_snapshot(root)
    assert snap.accounts["111122223333"].managed_policies[FOO].default_version_id == "v1"
    assert not build_graph(snap, workers=1).graph.nodes[U3].get("admin")


def test_warnings_of_a_supplied_policy_are_given_once(tmp_path: Path) -> None:
    """Two accounts attach the supplied policy; its warning (an Effect in the wrong letter case) names the
    supplied file, once."""
    root = _snapshot(tmp_path, {"Policies": [_policy(FOO, {"Effect": "allow", "Action": "*", "Resource": "*"})]})
    other = root / "accounts" / "444455556666"
    other.mkdir()
    text = (root / AD).read_text().replace("111122223333", "444455556666")
    (other / "authorization-details.json").write_text(text)
    snap = load_snapshot(root)
    assert set(snap.accounts) == {"111122223333", "444455556666"}
    mine = [w for w in snap.warnings if "case-sensitive" in w]
    assert len(mine) == 1 and mine[0].startswith("aws-managed-policies.json")


@pytest.mark.parametrize(
    ("doc", "element", "words"),
    [
        ({"Policies": [_policy("arn:aws:iam::111122223333:policy/Mine", ADMIN)]}, "Policies[0].Arn", "not an AWS"),
        ({"Policies": [_policy(FOO, ADMIN), _policy(FOO, ADMIN)]}, "Policies[1].Arn", "duplicate"),
        ({"Policies": [], "UserDetailList": [{"UserName": "x"}]}, "UserDetailList", "AWS managed policies only"),
        ({"Policies": [], "IsTruncated": True}, "IsTruncated", "every page"),
        ({"policies": []}, "", 'missing "Policies"'),
        ({"Policies": [_policy(FOO, {"Effect": "Maybe", "Action": "*", "Resource": "*"})]}, "Statement[0].Effect", ""),
    ],
)
def test_bad_input_names_the_file_and_element(tmp_path: Path, doc: dict[str, Any], element: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        load_snapshot(_snapshot(tmp_path, doc))
    assert err.value.where == "aws-managed-policies.json"
    assert element in (err.value.element or "") and words in str(err.value)
