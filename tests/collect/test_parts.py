"""The collector's parts on their own: region discovery against moto, error classification, and how an
account's files are made consistent with its authorization details."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from iamgraph.collect.account import AccountData, ResourceRecord, policy_value, tags_of
from iamgraph.collect.aws import AccountSession, client_config
from iamgraph.collect.calls import Caller, classify
from iamgraph.collect.iam import collect_credential_report, utc_text
from iamgraph.collect.options import CollectOptions
from iamgraph.collect.regions import enabled_regions
from iamgraph.collect.report import FailureKind, Recorder

from .estate import MGMT

A = "111122223333"


def test_enabled_regions_are_of_the_partition(moto_url: str) -> None:
    options = CollectOptions(endpoint_url=moto_url)
    session = boto3.Session(aws_access_key_id="AKIAREGIONS", aws_secret_access_key="x", region_name="us-east-1")
    account = AccountSession(session, account=MGMT, partition="aws", options=options, config=client_config(options))
    recorder = Recorder(version="test", options={})
    regions = enabled_regions(Caller(account, recorder, threading.Event(), service="ec2", region=None))
    assert {"eu-west-1", "us-east-1"} <= set(regions)
    assert not [r for r in regions if r.startswith(("cn-", "us-gov-"))]
    assert regions == sorted(regions)
    assert [(c.operation, c.outcome) for c in recorder.calls] == [("DescribeRegions", "ok")]


@pytest.mark.parametrize(
    ("code", "status", "regional", "kind"),
    [
        ("AccessDenied", 403, True, FailureKind.ACCESS_DENIED),
        ("AccessDeniedException", 400, False, FailureKind.ACCESS_DENIED),
        ("SomethingNew", 403, False, FailureKind.ACCESS_DENIED),
        ("ThrottlingException", 400, True, FailureKind.THROTTLED),
        ("UnrecognizedClientException", 400, True, FailureKind.REGION_UNAVAILABLE),
        ("InvalidClientTokenId", 403, True, FailureKind.REGION_UNAVAILABLE),
        ("InvalidClientTokenId", 403, False, FailureKind.ACCESS_DENIED),
        ("InternalError", 500, True, FailureKind.ERROR),
    ],
)
def test_classify(code: str, status: int, regional: bool, kind: FailureKind) -> None:
    assert classify(code, status, regional=regional) is kind


def _details(*roles: dict[str, Any]) -> dict[str, Any]:
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": list(roles), "Policies": []}


def _role(name: str, path: str = "/", profiles: tuple[str, ...] = ()) -> dict[str, Any]:
    arn = f"arn:aws:iam::{A}:role{path}{name}"
    return {"RoleName": name, "Arn": arn, "InstanceProfileList": [
        {"Arn": f"arn:aws:iam::{A}:instance-profile/{p}", "Roles": [{"Arn": arn}]} for p in profiles
    ]}  # fmt: skip


def test_roles_are_resolved_against_the_authorization_details() -> None:
    data = AccountData(A)
    data.authorization = _details(_role("runner", "/ec2/", ("runner-profile",)), _role("deployer", "/service-role/"))
    data.add([
        ResourceRecord(arn=f"arn:aws:ec2:eu-west-1:{A}:instance/i-1", type="AWS::EC2::Instance", region="eu-west-1",
                       profiles=[f"arn:aws:iam::{A}:instance-profile/runner-profile"]),
        ResourceRecord(arn=f"arn:aws:cloudformation:eu-west-1:{A}:stack/s/1", type="AWS::CloudFormation::Stack",
                       region="eu-west-1", roles=[f"arn:aws:iam::{A}:role/deployer",  # path left out by the caller
                                                  "arn:aws:iam::999988887777:role/elsewhere",
                                                  f"arn:aws:iam::{A}:role/deleted-meanwhile"]),
    ])  # fmt: skip
    notes: list[str] = []
    files = data.files(notes.append)
    entries = json.loads(files["resources.json"])["resources"]
    assert entries[0]["roles"] == [f"arn:aws:iam::{A}:role/ec2/runner"]
    assert entries[1]["roles"] == [f"arn:aws:iam::{A}:role/service-role/deployer",
                                   "arn:aws:iam::999988887777:role/elsewhere"]  # fmt: skip
    assert notes == [f"arn:aws:cloudformation:eu-west-1:{A}:stack/s/1: role arn:aws:iam::{A}:role/deleted-meanwhile "
                     "is not in the authorization details (deleted or created meanwhile?)"]  # fmt: skip
    assert data.written_resources == 2


def test_no_authorization_details_no_account_files() -> None:
    data = AccountData(A)
    data.add([ResourceRecord(arn="arn:aws:s3:::b", type="AWS::S3::Bucket", region="eu-west-1")])
    assert data.files(lambda _: None) == {}


def test_unreadable_parts_are_named_and_duplicates_dropped() -> None:
    data = AccountData(A)
    data.authorization = _details()
    record = ResourceRecord(arn="arn:aws:s3:::b", type="AWS::S3::Bucket", region="eu-west-1", unreadable=["Policy"])
    data.add([record, ResourceRecord(arn="arn:aws:s3:::b", type="AWS::S3::Bucket", region="eu-west-1")])
    [entry] = json.loads(data.files(lambda _: None)["resources.json"])["resources"]
    assert entry["policy"] is None and entry["properties"] == {"Unreadable": ["Policy"]}


@pytest.mark.parametrize(
    ("raw", "tags"),
    [
        ({"a": "1"}, {"a": "1"}),
        ([{"Key": "a", "Value": "1"}], {"a": "1"}),
        ([{"TagKey": "a", "TagValue": "1"}], {"a": "1"}),
        ([{"key": "a", "value": "1"}], {"a": "1"}),
        (None, {}),
    ],
)
def test_tags_of_every_shape(raw: Any, tags: dict[str, str]) -> None:
    assert tags_of(raw) == tags


def test_policy_value_keeps_what_it_cannot_decode() -> None:
    assert policy_value('{"Version": "2012-10-17"}') == {"Version": "2012-10-17"}
    assert policy_value("%7B%22Version%22%7D") == "%7B%22Version%22%7D"  # ingest decodes URL-encoded text
    assert policy_value(None) is None


def test_progress_bar_per_account_on_a_terminal() -> None:
    from io import StringIO

    from rich.console import Console

    from iamgraph.cli_collect import _Bars

    buffer = StringIO()
    with _Bars(Console(file=buffer, force_terminal=True, width=120)) as bars:
        bars.account_started(A, "prod")
        bars.tasks_added(A, 4)
        bars.task_started(A, "sqs eu-west-1")
        bars.task_done(A)
        bars.refresh()
    text = buffer.getvalue()
    assert f"{A} prod" in text and "sqs eu-west-1" in text and "1/4" in text


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 15, 8, 30, tzinfo=UTC), "2026-11-15T08:30:00Z"),
        (datetime(2026, 11, 15, 8, 30), "2026-11-15T08:30:00Z"),  # naive: botocore's times are UTC
        (datetime(2026, 11, 15, 10, 30, tzinfo=timezone(timedelta(hours=2))), "2026-11-15T08:30:00Z"),
        (datetime(2026, 11, 15, 8, 30, 0, 125000, tzinfo=UTC), "2026-11-15T08:30:00.125000Z"),
    ],
)
def test_utc_text(moment: datetime, text: str) -> None:
    assert utc_text(moment) == text


class _ReportCaller:
    """Answers GenerateCredentialReport (complete at once) and GetCredentialReport; keeps the notes."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        self.notes: list[str] = []
        self.cancel = threading.Event()

    def call(self, operation: str, **_: Any) -> dict[str, Any]:
        return {"State": "COMPLETE"} if operation == "generate_credential_report" else self.report

    def note(self, message: str) -> None:
        self.notes.append(message)


def test_credential_report_time_goes_to_account_json() -> None:
    data = AccountData(A)
    data.authorization = _details()
    generated = datetime(2026, 11, 15, 8, 30, 5, tzinfo=UTC)
    caller = _ReportCaller({"Content": b"user,arn\n", "ReportFormat": "text/csv", "GeneratedTime": generated})
    collect_credential_report(caller, data)  # type: ignore[arg-type]
    files = data.files(lambda _: None)
    assert files["credential-report.csv"] == b"user,arn\n"
    assert json.loads(files["account.json"]) == {"credential_report_generated": "2026-11-15T08:30:05Z"}
    assert caller.notes == []


def test_credential_report_without_a_time_is_noted() -> None:
    data = AccountData(A)
    data.authorization = _details()
    caller = _ReportCaller({"Content": b"user,arn\n", "ReportFormat": "text/csv"})
    collect_credential_report(caller, data)  # type: ignore[arg-type]
    files = data.files(lambda _: None)
    assert "credential-report.csv" in files and "account.json" not in files
    [note] = caller.notes
    assert note == "credential report: no GeneratedTime in the answer; account.json cannot say when it was made"


def test_only_the_collector_imports_boto3() -> None:
    """The CLI, ingest and the graph work without the collect extra: boto3 is imported when collect runs."""
    import subprocess
    import sys

    code = (
        "import sys, iamgraph.cli, iamgraph.ingest, iamgraph.graph.queries, iamgraph.ingest.collection_report;"
        "print('boto3' in sys.modules or 'botocore' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
