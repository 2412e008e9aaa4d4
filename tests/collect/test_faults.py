"""Fault injection over real HTTP: a proxy in front of moto answers AccessDenied for SQS, throttles IAM
calls and makes one region unreachable. The collection goes on, retries what was throttled, and says in
collection-report.json, in its summary and through ingest what it could not read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from iamgraph.cli import app
from iamgraph.ingest import load_snapshot

from .conftest import collect
from .estate import MGMT, REGION, Estate
from .faults import FaultProxy, Rule

DOWN = "ap-south-1"
AUTH_DETAILS = ("iam", "GetAccountAuthorizationDetails")


@pytest.fixture(scope="module")
def proxy(estate: Estate) -> Iterator[FaultProxy]:
    rules = [
        Rule(None, "UnrecognizedClientException", region=DOWN),  # a region that is not enabled
        Rule("sqs", "AccessDenied", status=403),  # every SQS call in the other regions
        Rule("iam", "Throttling", operation="GetAccountAuthorizationDetails", times=2),  # then answered
        Rule("iam", "Throttling", operation="GetAccountSummary"),  # never answered
    ]
    with FaultProxy(estate.url, rules) as running:
        yield running


@pytest.fixture(scope="module")
def run(proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    tmp = tmp_path_factory.mktemp("faults")
    out = tmp / "snapshot"
    result = collect(tmp, proxy.url, "--out", str(out), "--regions", f"{REGION},{DOWN}", "--max-attempts", "3")
    return out, result


@pytest.fixture(scope="module")
def report(run: tuple[Path, Result]) -> dict[str, Any]:
    out, result = run
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads((out / "collection-report.json").read_text(encoding="utf-8"))
    return data


def test_access_denied_is_reported_with_account_and_region(report: dict[str, Any]) -> None:
    sqs = [f for f in report["failures"] if f["service"] == "sqs" and f["region"] == REGION]
    assert len(sqs) == 1
    assert sqs[0] | {"message": ""} == {
        "account": MGMT, "region": REGION, "service": "sqs", "operation": "ListQueues", "target": None,
        "kind": "access-denied", "code": "AccessDenied", "message": "", "unreadable": "SQS queues and their policies",
    }  # fmt: skip
    assert report["accounts"][0]["status"] == "partial" and report["accounts"][0]["written"] is True


def test_access_denied_is_in_the_cli_summary(run: tuple[Path, Result]) -> None:
    _, result = run
    line = next(line for line in result.stdout.splitlines() if " sqs " in line and REGION in line)
    assert MGMT in line and "access-denied" in line and "AccessDenied (ListQueues)" in line
    assert "SQS queues and their policies" in line


def test_throttled_call_is_retried(report: dict[str, Any], proxy: FaultProxy) -> None:
    details = [c for c in report["calls"] if (c["service"], c["operation"]) == AUTH_DETAILS]
    assert [(c["outcome"], c["attempts"]) for c in details] == [("ok", 3)]
    assert proxy.answered[(*AUTH_DETAILS, "Throttling")] == 2
    assert proxy.seen[AUTH_DETAILS] == 3
    assert report["summary"]["retried"] >= 1


def test_throttling_beyond_the_attempts_is_a_failure(report: dict[str, Any], proxy: FaultProxy) -> None:
    summary = [f for f in report["failures"] if f["operation"] == "GetAccountSummary"]
    assert [(f["kind"], f["code"]) for f in summary] == [("throttled", "Throttling")]
    assert proxy.seen[("iam", "GetAccountSummary")] == 3  # --max-attempts 3


def test_unreachable_region_fails_alone(report: dict[str, Any], run: tuple[Path, Result]) -> None:
    down = [f for f in report["failures"] if f["region"] == DOWN]
    assert {f["kind"] for f in down} == {"region-unavailable"}
    assert {f["service"] for f in down} == {
        "cloudformation", "codebuild", "ec2", "ecr", "glue", "kms", "lambda", "sagemaker", "secretsmanager", "sns",
        "sqs",
    }  # fmt: skip
    out, _ = run
    resources = json.loads((out / "accounts" / MGMT / "resources.json").read_text(encoding="utf-8"))["resources"]
    types = {r["type"] for r in resources}
    assert {"AWS::Lambda::Function", "AWS::KMS::Key", "AWS::S3::Bucket"} <= types  # eu-west-1 was read
    assert "AWS::SQS::Queue" not in types


def test_ingest_surfaces_what_was_not_read(run: tuple[Path, Result]) -> None:
    out, _ = run
    snapshot = load_snapshot(out)
    warnings = [w for w in snapshot.warnings if w.startswith("collection-report.json: ")]
    assert (
        f"collection-report.json: account {MGMT} {REGION} sqs: not read: SQS queues and their policies "
        "(access-denied: AccessDenied on ListQueues)"
    ) in warnings
    assert any("account summary" in w and "throttled" in w for w in warnings)
    assert any(f" {DOWN} lambda: " in w and "region-unavailable" in w for w in warnings)
    assert snapshot.accounts[MGMT].summary is None  # unreadable, and said so above


def test_graph_build_prints_the_unreadable_parts(run: tuple[Path, Result]) -> None:
    out, _ = run
    result = CliRunner().invoke(app, ["graph", "build", str(out)])
    assert result.exit_code == 0, result.output
    assert f"collection-report.json: account {MGMT} {REGION} sqs: not read: SQS queues" in result.stdout
