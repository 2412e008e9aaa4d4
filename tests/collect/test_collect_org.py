"""End to end over real HTTP: build an organization in moto with boto3, run ``iamgraph collect --org``
through the CLI, validate every written file against docs/schemas, load the snapshot with iamgraph's
loader and ask who-can questions whose answers need what was collected (policies, roles, SCPs)."""

from __future__ import annotations

import json
import shutil
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import Result

from iamgraph.graph.queries import Analysis, find_paths, who_can
from iamgraph.ingest import load_snapshot

from .conftest import collect
from .estate import ACCESS_SECRET, MGMT, OUTSIDER, REGION, SECRET_VALUE, Estate

jsonschema = pytest.importorskip("jsonschema")

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
SCHEMA_OF = {
    "authorization-details.json": "authorization-details.schema.json",
    "resources.json": "resources.schema.json",
    "organization.json": "organization.schema.json",
    "account.json": "account.schema.json",
    "collection-report.json": "collection-report.schema.json",
}


@pytest.fixture(scope="module")
def run(estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    tmp = tmp_path_factory.mktemp("org")
    out = tmp / "snapshot"
    result = collect(tmp, estate.url, "--out", str(out), "--org", "--assume-role", "OrganizationAccountAccessRole",
                     "--regions", REGION)  # fmt: skip
    return out, result


@pytest.fixture(scope="module")
def out(run: tuple[Path, Result]) -> Path:
    path, result = run
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def analysis(out: Path) -> Analysis:
    return Analysis.of(load_snapshot(out))


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _resources(out: Path, account: str) -> dict[str, dict[str, Any]]:
    return {r["arn"]: r for r in _json(out / "accounts" / account / "resources.json")["resources"]}


def _holders(analysis: Analysis, resource: str, action: str) -> set[str]:
    return {p["arn"] for p in who_can(analysis, resource, action=action)["principals"]}


def test_summary_line(run: tuple[Path, Result], estate: Estate) -> None:
    out, result = run
    assert result.exit_code == 0, result.output
    assert f"snapshot written to {out}: 2 of 2 account(s), 1 region(s)" in result.stdout
    assert "0 failure(s)" in result.stdout
    assert result.stderr == ""  # no progress bars when not on a terminal


def test_layout_is_the_snapshot_format(out: Path, estate: Estate) -> None:
    names = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    per_account = ("authorization-details.json", "resources.json", "credential-report.csv", "account.json")
    expected = {"organization.json", "collection-report.json", "accounts"}
    for account in (MGMT, estate.member):
        expected |= {f"accounts/{account}"} | {f"accounts/{account}/{name}" for name in per_account}
    assert names == expected  # nothing else: no temporary files left behind


@pytest.mark.parametrize("name", sorted(SCHEMA_OF))
def test_files_match_their_schema(out: Path, name: str) -> None:
    schema = _json(SCHEMAS / SCHEMA_OF[name])
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted(out.rglob(name))
    assert files
    for path in files:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_json(path))]
        assert errors == [], path


def test_files_are_private(out: Path) -> None:
    for path in out.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path}: {oct(mode)}"


def test_organization(out: Path, estate: Estate) -> None:
    org = _json(out / "organization.json")
    assert org["id"] == estate.org_id and org["management_account"] == MGMT
    unit = next(u for u in org["organizational_units"] if u["name"] == "Workloads")
    accounts = {a["id"]: a for a in org["accounts"]}
    assert accounts[estate.member]["parent"] == unit["id"] and accounts[estate.member]["name"] == "prod"
    policies = {p["name"]: p for p in org["policies"]}
    assert policies["DenyBucketDeletion"]["type"] == "SERVICE_CONTROL_POLICY"
    assert policies["DenyBucketDeletion"]["targets"] == [unit["id"]]
    assert policies["DenyBucketDeletion"]["document"]["Statement"][0]["Action"] == "s3:DeleteBucket"
    assert policies["SecretsStayInOrg"]["type"] == "RESOURCE_CONTROL_POLICY"
    assert set(policies["FullAWSAccess"]["targets"]) >= {org["roots"][0]["id"], unit["id"], MGMT, estate.member}


def test_resources_with_roles_and_policies(out: Path, estate: Estate) -> None:
    res = _resources(out, MGMT)
    role = f"arn:aws:iam::{MGMT}:role/"
    assert res[estate.instance_arn]["roles"] == [role + "ec2/ec2-role"]  # instance profile → its role
    assert res[estate.function_arn]["roles"] == [role + "service-role/reporter-role"]
    assert res[estate.function_arn]["policy"]["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{OUTSIDER}:root"}
    by_type = {r["type"]: r for r in res.values()}
    for kind in ("AWS::CloudFormation::Stack", "AWS::CodeBuild::Project", "AWS::Glue::DevEndpoint",
                 "AWS::SageMaker::NotebookInstance"):  # fmt: skip
        assert by_type[kind]["roles"] == [role + "service-role/deploy-role"], kind
    bucket = res["arn:aws:s3:::mgmt-reports"]
    assert bucket["region"] == REGION and bucket["tags"] == {"team": "finance"}
    assert bucket["policy"]["Statement"][0]["Sid"] == "PartnerRead"
    assert bucket["properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    key = res[estate.key_arn]
    assert key["properties"]["Aliases"] == ["alias/payments"] and key["tags"] == {"team": "payments"}
    assert {s["Sid"] for s in key["policy"]["Statement"]} == {"Admin", "Use"}
    assert res[estate.queue_arn]["policy"]["Statement"][0]["Action"] == "sqs:SendMessage"
    repo = by_type["AWS::ECR::Repository"]
    assert repo["policy"]["Statement"][0]["Resource"] == repo["arn"]  # implied by ECR, made explicit
    assert by_type["AWS::SecretsManager::Secret"]["policy"]["Statement"][0]["Action"] == "secretsmanager:GetSecretValue"
    assert "AWS::IAM::OIDCProvider" in by_type and "AWS::SNS::Topic" in by_type
    assert "arn:aws:s3:::mgmt-east-logs" not in res  # us-east-1 was not asked for
    assert "arn:aws:s3:::prod-data" in _resources(out, estate.member)


def test_account_files(out: Path, estate: Estate) -> None:
    info = _json(out / "accounts" / MGMT / "account.json")
    assert info["alias"] == "acme-mgmt"
    assert info["password_policy"]["MinimumPasswordLength"] == 14
    assert info["summary"]["Users"] == 3
    iam = boto3.client("iam", endpoint_url=estate.url, region_name="us-east-1", aws_access_key_id="AKIATESTREADER",
                       aws_secret_access_key="x")  # fmt: skip
    generated = iam.get_credential_report()["GeneratedTime"]  # what AWS (here moto) says, as boto3 parses it
    assert info["credential_report_generated"].endswith("Z")
    assert datetime.fromisoformat(info["credential_report_generated"].replace("Z", "+00:00")) == generated
    report = (out / "accounts" / MGMT / "credential-report.csv").read_text(encoding="utf-8")
    assert report.startswith("user,arn,") and f"arn:aws:iam::{MGMT}:user/alice" in report
    details = _json(out / "accounts" / MGMT / "authorization-details.json")
    assert set(details) == {"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"}


def test_report_lists_calls_and_choices(out: Path, estate: Estate) -> None:
    report = _json(out / "collection-report.json")
    assert report["complete"] is True and report["interrupted"] is False and report["failures"] == []
    assert report["organization"] == "collected"
    assert {(a["id"], a["access"], a["status"]) for a in report["accounts"]} == {
        (MGMT, "caller", "complete"), (estate.member, "assume-role", "complete")
    }  # fmt: skip
    calls = {(c["account"], c["service"], c["operation"]) for c in report["calls"]}
    for account in (MGMT, estate.member):
        assert (account, "iam", "GetAccountAuthorizationDetails") in calls
        assert (account, "iam", "GenerateCredentialReport") in calls
    assert (estate.member, "sts", "AssumeRole") in calls
    assert (MGMT, "organizations", "ListTargetsForPolicy") in calls
    assert report["summary"]["calls"] == len(report["calls"])
    assert any(n["service"] == "s3" and "(us-east-1) left out" in n["message"] for n in report["notes"])


def test_review_counts_ages_to_the_collected_report_time(analysis: Analysis, estate: Estate) -> None:
    from iamgraph.review import ReviewConfig, review

    times = {a.id: a.credential_report_generated for a in analysis.snapshot.accounts.values()}
    assert set(times) == {MGMT, estate.member} and all(times.values())
    config = ReviewConfig(only=frozenset({"access-key-not-rotated"}), access_summary=False)
    as_of = review(analysis, config).to_json()["as_of"]
    newest = max(t for t in times.values() if t is not None)
    assert as_of["time"] == newest.isoformat() and as_of["note"] is None
    assert as_of["source"].startswith("credential report generated ")


def test_who_can_end_to_end(analysis: Analysis, estate: Estate) -> None:
    reports = "arn:aws:s3:::mgmt-reports"
    holders = _holders(analysis, reports, "s3:ListBucket")
    assert {f"arn:aws:iam::{MGMT}:user/alice", f"arn:aws:iam::{MGMT}:role/service-role/reporter-role",
            f"arn:aws:iam::{OUTSIDER}:root"} <= holders  # fmt: skip
    assert f"arn:aws:iam::{MGMT}:user/bob" not in holders
    assert _holders(analysis, estate.function_arn, "lambda:InvokeFunction") >= {f"arn:aws:iam::{OUTSIDER}:root"}
    assert f"arn:aws:iam::{MGMT}:role/key-user" in _holders(analysis, estate.key_arn, "kms:Decrypt")


def test_who_can_across_accounts_through_the_collected_role(analysis: Analysis, estate: Estate) -> None:
    answer = who_can(analysis, "arn:aws:s3:::prod-data", action="s3:ListBucket")
    paths = {p["arn"]: p["path"] for p in answer["principals"]}
    bob = f"arn:aws:iam::{MGMT}:user/bob"
    assert f"arn:aws:iam::{estate.member}:user/carol" in paths
    assert [hop["target"] for hop in paths[bob]] == [
        f"arn:aws:iam::{estate.member}:role/OrganizationAccountAccessRole", "arn:aws:s3:::prod-data"
    ]  # fmt: skip


def test_collected_scp_blocks_and_matters(out: Path, analysis: Analysis, estate: Estate, tmp_path: Path) -> None:
    """The SCP on the OU denies s3:DeleteBucket; without organization.json carol could delete the bucket."""
    carol = f"arn:aws:iam::{estate.member}:user/carol"
    assert carol not in _holders(analysis, "arn:aws:s3:::prod-data", "s3:DeleteBucket")
    copy = tmp_path / "no-org"
    shutil.copytree(out, copy)
    (copy / "organization.json").unlink()
    without = Analysis.of(load_snapshot(copy))
    assert carol in _holders(without, "arn:aws:s3:::prod-data", "s3:DeleteBucket")


def test_instance_profile_gives_a_takeover_path(analysis: Analysis) -> None:
    found = find_paths(analysis, f"arn:aws:iam::{MGMT}:user/ops", f"arn:aws:iam::{MGMT}:role/ec2/ec2-role")
    assert [[hop["technique"] for hop in p["hops"]] for p in found["paths"]] == [["ssm:StartSession"]]


def test_ingest_has_nothing_to_warn_about(out: Path) -> None:
    assert not [w for w in load_snapshot(out).warnings if w.startswith("collection-report.json")]


def test_no_secrets_written_or_printed(run: tuple[Path, Result]) -> None:
    out, result = run
    texts = [result.stdout, result.stderr] + [p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()]
    for text in texts:
        assert ACCESS_SECRET not in text
        assert SECRET_VALUE not in text
        assert "SecretAccessKey" not in text and "SessionToken" not in text


# The minimal policy of docs/collect.md against the calls the collector made.
_ACTION_OF = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("sts", "GetCallerIdentity"): None,  # needs no permission
}


def _documented_actions() -> set[str]:
    text = (SCHEMAS.parent / "collect.md").read_text(encoding="utf-8")
    block = text.split("## Minimal read-only policy", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    policy = json.loads(block)
    from iamgraph.model import PolicyKind
    from iamgraph.policy import parse_policy

    parse_policy(policy, name="collect.md", kind=PolicyKind.IDENTITY)
    actions = set()
    for statement in policy["Statement"]:
        listed = statement["Action"]
        actions |= {listed} if isinstance(listed, str) else set(listed)
    return actions


def test_documented_policy_covers_every_call(out: Path) -> None:
    from iamgraph.catalog import get_catalog

    documented = _documented_actions()
    unknown = sorted(a for a in documented if not get_catalog().is_known_action(a))
    assert unknown == []
    calls = {(c["service"], c["operation"]) for c in _json(out / "collection-report.json")["calls"]}
    needed = {_ACTION_OF.get(call, f"{call[0]}:{call[1]}") for call in calls} - {None}
    assert sorted(needed - documented) == []
    assert "ec2:DescribeRegions" in documented  # made without --regions (test_parts)
