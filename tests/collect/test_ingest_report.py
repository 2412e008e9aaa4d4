"""Ingest reads collection-report.json: gaps become warnings; a malformed report is one clear error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from iamgraph.cli import app
from iamgraph.errors import InputError
from iamgraph.ingest import load_snapshot

SINGLE = Path(__file__).resolve().parents[2] / "fixtures" / "small" / "single-account"
A = "111122223333"


def _failure(**changes: Any) -> dict[str, Any]:
    base = {"account": A, "region": "eu-west-1", "service": "sqs", "operation": "GetQueueAttributes",
            "target": f"arn:aws:sqs:eu-west-1:{A}:q1", "kind": "access-denied", "code": "AccessDenied",
            "message": "not authorized", "unreadable": "SQS queue policy"}  # fmt: skip
    return base | changes


def _report(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "format": "iamgraph-collection-report/1", "iamgraph_version": "0.1.0", "started": "2026-01-01T00:00:00Z",
        "finished": "2026-01-01T00:05:00Z", "complete": True, "interrupted": False,
        "caller": {"account": A, "arn": f"arn:aws:iam::{A}:user/auditor"}, "options": {}, "organization": None,
        "accounts": [
            {"id": A, "name": None, "access": "caller", "status": "partial", "reason": None, "regions": ["eu-west-1"],
             "resources": 3, "written": True},
            {"id": "222233334444", "name": "dev", "access": "assume-role", "status": "failed",
             "reason": "sts:AssumeRole failed (AccessDenied)", "regions": [], "resources": 0, "written": False},
        ],
        "summary": {}, "failures": [_failure(), _failure(target=f"arn:aws:sqs:eu-west-1:{A}:q2")], "notes": [],
        "calls": [],
    }  # fmt: skip
    return base | changes


def _snapshot(tmp_path: Path, report: Any) -> Path:
    root = tmp_path / "snap"
    shutil.copytree(SINGLE, root)
    text = report if isinstance(report, str) else json.dumps(report)
    (root / "collection-report.json").write_text(text, encoding="utf-8")
    return root


def _collection_warnings(root: Path) -> list[str]:
    return [w for w in load_snapshot(root).warnings if w.startswith("collection-report.json")]


def test_gaps_become_warnings(tmp_path: Path) -> None:
    assert _collection_warnings(_snapshot(tmp_path, _report())) == [
        "collection-report.json: account 222233334444 (dev) is not in the snapshot: failed, "
        "sts:AssumeRole failed (AccessDenied)",
        f"collection-report.json: account {A} eu-west-1 sqs: not read: SQS queue policy "
        "(access-denied: AccessDenied on GetQueueAttributes) (2 times)",
    ]


@pytest.mark.parametrize(
    ("changes", "first"),
    [
        ({"complete": False, "interrupted": True}, "the collection was interrupted"),
        ({"complete": False, "finished": None}, "the collection did not finish"),
    ],
    ids=["interrupted", "unfinished"],
)
def test_incomplete_collection(tmp_path: Path, changes: dict[str, Any], first: str) -> None:
    warnings = _collection_warnings(_snapshot(tmp_path, _report(**changes)))
    assert warnings[0] == f"collection-report.json: {first}: accounts, services or regions may be missing"


def test_graph_build_shows_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["graph", "build", str(_snapshot(tmp_path, _report()))])
    assert result.exit_code == 0, result.output
    assert "collection-report.json: account 222233334444 (dev) is not in the snapshot" in result.stdout


@pytest.mark.parametrize(
    ("report", "message"),
    [
        (_report(extra=1), "collection-report.json: extra: unknown key (allowed: "),
        (_report(format="other/9"), 'collection-report.json: format: unknown report format (expected "iamgraph-'),
        (_report(complete="yes"), "collection-report.json: complete: must be true or false"),
        (_report(failures=[_failure(kind="oops")]), 'collection-report.json: failures[0].kind: "oops" is not one of'),
        (_report(failures=[{"account": A}]), 'collection-report.json: failures[0]: missing "kind"'),
        (_report(accounts=[{"id": A, "status": "complete"}]), 'collection-report.json: accounts[0]: missing "written"'),
        ("{not json", "collection-report.json: not valid JSON: "),
    ],
    ids=["unknown-key", "format", "complete", "kind", "failure-field", "account-field", "json"],
)
def test_malformed_report_is_one_clear_error(tmp_path: Path, report: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_snapshot(_snapshot(tmp_path, report))
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.where == "collection-report.json"
