"""``iamgraph review`` on the command line: formats, exit codes a pipeline gates on, files, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from iamgraph.cli import app

from .builder import Acct, Key, allow, write

STALE = "2020-01-01T00:00:00+00:00"


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    a = Acct()
    a.user("old", allow("s3:ListAllMyBuckets"))
    a.credentials("old", keys=(Key(rotated=STALE),))  # medium: not rotated; low: own policy; info: keys only
    return write(tmp_path, a)


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    runner = CliRunner(env={"IAMGRAPH_CACHE_DIR": str(tmp_path / "cache")})

    def invoke(*args: str) -> Any:
        return runner.invoke(app, ["review", *args])

    return invoke


def test_json(cli: Any, snapshot: Path) -> None:
    res = cli("--data", str(snapshot), "--as-of", "2026-11-15", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["schema"] == "iamgraph.review/1"
    assert doc["as_of"] == {"time": "2026-11-15T00:00:00+00:00", "source": "--as-of", "note": None}
    assert {"access-key-not-rotated", "user-direct-policies"} <= {f["check"] for f in doc["findings"]}


@pytest.mark.parametrize(("fail_on", "code"), [("none", 0), ("high", 0), ("medium", 1), ("low", 1)])
def test_fail_on(cli: Any, snapshot: Path, fail_on: str, code: int) -> None:
    res = cli("--data", str(snapshot), "--as-of", "2026-11-15", "--json", "--fail-on", fail_on)
    assert res.exit_code == code, res.output
    if code:
        assert "at or above" in res.stderr


def test_suppressed_findings_do_not_fail_the_gate(cli: Any, snapshot: Path, tmp_path: Path) -> None:
    rules = tmp_path / "accepted.toml"
    rules.write_text('[[suppressions]]\ncheck = "access-key-not-rotated"\nreason = "rotating in Q1 (OPS-9)"\n')
    res = cli(
        "--data", str(snapshot), "--as-of", "2026-11-15", "--json", "--fail-on", "medium", "--suppressions", str(rules)
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["suppressed"][0]["suppression"]["reason"] == "rotating in Q1 (OPS-9)"


def test_sarif_to_file(cli: Any, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "review.sarif"
    res = cli("--data", str(snapshot), "--as-of", "2026-11-15", "--format", "sarif", "-o", str(out))
    assert res.exit_code == 0, res.output
    log = json.loads(out.read_text())
    assert log["version"] == "2.1.0" and log["runs"][0]["results"]
    assert log["runs"][0]["originalUriBaseIds"]["SNAPSHOT"]["uri"].startswith("file://")


def test_config_file_and_flags(cli: Any, snapshot: Path, tmp_path: Path) -> None:
    config = tmp_path / "review.toml"
    config.write_text('as_of = 2026-11-15\nmin_severity = "medium"\n[thresholds]\nrotation_days = 99999\n')
    res = cli("--data", str(snapshot), "--config", str(config), "--json")
    assert res.exit_code == 2 and "rotation_days" in res.stderr  # the file's value is out of range
    config.write_text('as_of = 2026-11-15\nmin_severity = "medium"\n[thresholds]\nrotation_days = 36500\n')
    doc = json.loads(cli("--data", str(snapshot), "--config", str(config), "--json").stdout)
    assert doc["as_of"]["source"] == "config file" and not doc["findings"]
    doc = json.loads(cli("--data", str(snapshot), "--config", str(config), "--rotation-days", "30", "--json").stdout)
    assert [f["check"] for f in doc["findings"]] == ["access-key-not-rotated"]


def test_as_of_now_is_explicit(cli: Any, snapshot: Path) -> None:
    doc = json.loads(cli("--data", str(snapshot), "--as-of", "now", "--json").stdout)
    assert doc["as_of"]["source"] == "wall clock (--as-of now)"
    assert json.loads(cli("--data", str(snapshot), "--json").stdout)["as_of"]["time"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "tomorrow"], "--as-of"),
        (["--check", "no-such-check"], "unknown check"),
        (["--config", "missing.toml"], "cannot read"),
    ],
)
def test_bad_input_exits_2(cli: Any, snapshot: Path, args: list[str], message: str) -> None:
    res = cli("--data", str(snapshot), *args)
    assert res.exit_code == 2 and message in res.stderr


def test_text_report_and_list_checks(cli: Any, snapshot: Path) -> None:
    res = cli("--data", str(snapshot), "--as-of", "2026-11-15")
    assert res.exit_code == 0
    assert "MEDIUM (" in res.stdout and "access-key-not-rotated" in res.stdout and "OUT OF SCOPE" in res.stdout
    listing = cli("--list-checks")
    assert listing.exit_code == 0 and "trust-without-external-id" in listing.stdout
