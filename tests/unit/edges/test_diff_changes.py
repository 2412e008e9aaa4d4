"""diff between two snapshots of one account where nothing is gained or lost outright, but conditions moved:
an admin that needed MFA no longer does, a trust asks for another condition, an edge lost actions, and an
escalation became unconditional. Each shows as a change, in the JSON and on the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from iamgraph.cli import app
from iamgraph.graph.queries import Analysis, AssumeUnknown, WhatIf, diff

from .estate_builder import Account, allow, arn, doc, load

MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
OFFICE = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
BUCKET = "arn:aws:s3:::diff-reports"


def _trust(principal: str, condition: dict[str, Any] | None) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        st["Condition"] = condition
    return doc(st)


def _account(*, later: bool) -> Account:
    a = Account()
    # admin with MFA before, outright later
    a.user("lead", allow("*") if later else allow("*", Condition=MFA))
    # the deploy role's trust asks for MFA before, for the office network later
    a.user("dev", allow("sts:AssumeRole", arn("role", "deploy")))
    a.role("deploy", _trust(arn("user", "dev"), OFFICE if later else MFA), allow("s3:ListBucket", BUCKET))
    # ops escalates to an admin role with MFA before, outright later
    a.user("ops", allow("sts:AssumeRole", arn("role", "breakglass")))
    a.role("breakglass", _trust(arn("user", "ops"), None if later else MFA), managed=(a.admin_policy(),))
    # the auditor reads and writes the bucket before, only reads it later
    actions = ["s3:GetObject"] if later else ["s3:GetObject", "s3:PutObject"]
    a.user("auditor", allow(actions, f"{BUCKET}/*"))
    # the same MFA condition, from a statement that moves down its policy: no change to report
    moved = allow("s3:ListBucket", BUCKET, Condition=MFA)
    a.user("lister", *((allow("sqs:ListQueues"), moved) if later else (moved,)))
    a.resource(BUCKET, "AWS::S3::Bucket")
    return a


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    old = tmp_path_factory.mktemp("old")
    new = tmp_path_factory.mktemp("new")
    load(old, _account(later=False))
    load(new, _account(later=True))
    return old / "snapshot", new / "snapshot"


@pytest.fixture(scope="module")
def result(snapshots: tuple[Path, Path]) -> dict[str, Any]:
    old, new = snapshots
    from iamgraph.ingest import load_snapshot

    return diff(Analysis.of(load_snapshot(old)), Analysis.of(load_snapshot(new)))


def _keys(conditions: list[Any]) -> set[str]:
    text = json.dumps(conditions)
    return {k for k in ("aws:MultiFactorAuthPresent", "aws:SourceIp") if k in text}


def test_an_admin_that_no_longer_needs_mfa_is_a_change(result: dict[str, Any]) -> None:
    assert result["admins_gained"] == [] and result["admins_lost"] == []
    changed = {c["arn"]: c for c in result["admins_changed"]}
    assert set(changed) == {arn("user", "lead")}
    assert _keys(changed[arn("user", "lead")]["conditions_before"]) == {"aws:MultiFactorAuthPresent"}
    assert changed[arn("user", "lead")]["conditions_after"] == []


def test_an_edge_under_other_conditions_or_with_fewer_actions_is_a_change(result: dict[str, Any]) -> None:
    changed = {(c["edge"]["source"], c["edge"]["target"]): c for c in result["edges_changed"]}
    deploy = changed[(arn("user", "dev"), arn("role", "deploy"))]
    assert _keys(deploy["conditions_before"]) == {"aws:MultiFactorAuthPresent"}
    assert _keys(deploy["edge"]["conditions"]) == {"aws:SourceIp"}
    assert deploy["actions_gained"] == deploy["actions_lost"] == []
    reader = changed[(arn("user", "auditor"), BUCKET)]
    assert reader["actions_lost"] == ["s3:PutObject"] and reader["actions_gained"] == []
    assert "conditions_before" not in reader  # unconditional before and after
    assert (arn("user", "lister"), BUCKET) not in changed  # its statement moved, its condition is the same
    # an edge that lost its condition is lost as conditional and gained as outright, not changed
    ops = (arn("user", "ops"), arn("role", "breakglass"))
    assert ops not in changed
    assert [e["conditional"] for e in result["edges_lost"] if (e["source"], e["target"]) == ops] == [True]
    assert [e["conditional"] for e in result["edges_gained"] if (e["source"], e["target"]) == ops] == [False]


def test_an_escalation_that_became_unconditional_is_a_change(result: dict[str, Any]) -> None:
    assert arn("user", "ops") not in {e["principal"] for e in result["escalations_gained"]}
    changed = {c["principal"]: c for c in result["escalations_changed"]}
    assert set(changed) == {arn("user", "ops")}
    ops = changed[arn("user", "ops")]
    assert ops["before"]["conditional"] is True and ops["after"]["conditional"] is False
    assert [h["target"] for h in ops["after"]["path"]] == [arn("role", "breakglass")]


def test_the_what_if_decides_what_changed(snapshots: tuple[Path, Path]) -> None:
    """With MFA denied, lead is an admin only later (gained, not changed), and ops escalates only later."""
    from iamgraph.ingest import load_snapshot

    old, new = (Analysis.of(load_snapshot(s)) for s in snapshots)
    r = diff(old, new, whatif=WhatIf({}, AssumeUnknown.DENY))
    assert arn("user", "lead") in r["admins_gained"] and r["admins_changed"] == []
    assert arn("user", "ops") in {e["principal"] for e in r["escalations_gained"]}
    assert r["escalations_changed"] == []


def test_same_snapshot_changes_nothing(snapshots: tuple[Path, Path]) -> None:
    from iamgraph.ingest import load_snapshot

    a = Analysis.of(load_snapshot(snapshots[0]))
    r = diff(a, a)
    assert all(r[k] == [] for k in r if k != "resource_access")


def test_the_terminal_shows_the_changes(snapshots: tuple[Path, Path]) -> None:
    old, new = snapshots
    out = CliRunner().invoke(app, ["diff", str(old), str(new), "--no-cache"], env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.output
    text = out.output
    assert "admins changed (1)" in text and "user/lead: admin (if aws:MultiFactorAuthPresent" in text
    assert "→ outright" in text
    assert "escalations changed (1)" in text and "user/ops: conditional → outright" in text
    assert "edges changed (2)" in text and "-s3:PutObject" in text
    assert "— was (if aws:MultiFactorAuthPresent" in text
    as_json = CliRunner().invoke(app, ["diff", str(old), str(new), "--no-cache", "--json"])
    assert as_json.exit_code == 0
    body = json.loads(as_json.output)
    assert {c["arn"] for c in body["admins_changed"]} == {arn("user", "lead")}
