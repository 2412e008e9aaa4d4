"""Ctrl-C: a real SIGINT to a running ``iamgraph collect`` process. What was read is written as a
consistent snapshot (it loads), everything not read is reported as interrupted, the report says the
collection is incomplete, and the exit status is 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iamgraph.ingest import load_snapshot

from .conftest import aws_env
from .estate import MGMT, REGION, Estate
from .faults import FaultProxy, Hold

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def interrupted(estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, str]]:
    tmp = tmp_path_factory.mktemp("interrupt")
    out = tmp / "snapshot"
    hold = Hold(service="sqs", operation="ListQueues")
    with FaultProxy(estate.url, hold=hold) as proxy:
        env = {k: v for k, v in os.environ.items()}
        for key, value in aws_env(tmp, proxy.url).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        command = [sys.executable, "-m", "iamgraph.cli", "collect", "--out", str(out), "--regions", REGION,
                   "--parallel", "1", "--json"]  # fmt: skip
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)  # fmt: skip
        try:
            assert hold.arrived.wait(120), "the collection never reached SQS"
            process.send_signal(signal.SIGINT)
            time.sleep(1.0)  # let the child handle the signal before the held call returns
            hold.release.set()
            stdout, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    assert stderr == "", stderr
    yield out, process.returncode, stdout


@pytest.fixture(scope="module")
def report(interrupted: tuple[Path, int, str]) -> dict[str, Any]:
    out, _, _ = interrupted
    data: dict[str, Any] = json.loads((out / "collection-report.json").read_text(encoding="utf-8"))
    return data


def test_exit_status_and_summary(interrupted: tuple[Path, int, str]) -> None:
    _, status, stdout = interrupted
    assert status == 130
    summary = json.loads(stdout)
    assert summary["interrupted"] is True and summary["complete"] is False
    assert summary["accounts"][0]["status"] == "interrupted"


def test_report_marks_the_snapshot_incomplete(report: dict[str, Any]) -> None:
    assert report["complete"] is False and report["interrupted"] is True and report["finished"]
    interrupted = {(f["service"], f["region"]) for f in report["failures"] if f["kind"] == "interrupted"}
    assert {("sqs", REGION), ("sns", REGION), ("s3", None)} <= interrupted
    [account] = report["accounts"]
    assert (account["id"], account["status"], account["written"]) == (MGMT, "interrupted", True)


def test_partial_snapshot_is_consistent(interrupted: tuple[Path, int, str]) -> None:
    out, _, _ = interrupted
    snapshot = load_snapshot(out)  # loads: every file complete, every reference resolved
    types = {r.type for r in snapshot.accounts[MGMT].resources.values()}
    assert "AWS::Lambda::Function" in types  # read before Ctrl-C
    assert "AWS::S3::Bucket" not in types  # never started
    assert not [p for p in out.rglob(".*")]  # no temporary files
    warnings = [w for w in snapshot.warnings if w.startswith("collection-report.json")]
    assert "collection-report.json: the collection was interrupted: accounts, services or regions may be missing" in (
        warnings
    )
    assert any(f"{REGION} sns: not read: SNS topics" in w and "(interrupted)" in w for w in warnings)
