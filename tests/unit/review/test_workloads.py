"""Workloads: roles rather than embedded user keys (what resources.json can show)."""

from __future__ import annotations

import json
from pathlib import Path

from .builder import ACCOUNT, Acct, of, run, trust

INSTANCE = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef0"
FUNCTION = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders"
KEY = "AKIA" + "EXAMPLEKEY123456"


def test_workload_without_role(tmp_path: Path) -> None:
    a = Acct()
    role = a.role("app", trust({"Service": "ec2.amazonaws.com"}))
    bare = a.resource(INSTANCE, "AWS::EC2::Instance")
    a.resource(INSTANCE.replace("0123", "9999"), "AWS::EC2::Instance", role)
    [f] = of(run(tmp_path, a), "workload-without-role")
    assert f["subject"] == bare and f["evidence"]["resources"] == [bare]
    assert "not part of a snapshot" in f["evidence"]["details"]["limits"]


def test_embedded_key_is_masked(tmp_path: Path) -> None:
    a = Acct()
    role = a.role("fn", trust({"Service": "lambda.amazonaws.com"}))
    a.resource(
        FUNCTION,
        "AWS::Lambda::Function",
        role,
        properties={"Environment": {"Variables": {"LEGACY_ID": KEY, "MODE": "prod"}}},
    )
    r = run(tmp_path, a)
    [f] = of(r, "workload-embedded-keys")
    assert f["severity"] == "high"
    assert f["evidence"]["details"]["found"] == [
        {"where": "properties.Environment.Variables.LEGACY_ID", "key": "AKIA...3456"}
    ]
    assert KEY not in json.dumps(r), "the key id is never printed in full"


def test_no_embedded_key(tmp_path: Path) -> None:
    a = Acct()
    role = a.role("fn", trust({"Service": "lambda.amazonaws.com"}))
    a.resource(FUNCTION, "AWS::Lambda::Function", role, properties={"Environment": {"Variables": {"MODE": "AKIA"}}})
    r = run(tmp_path, a)
    assert not of(r, "workload-embedded-keys") and not of(r, "workload-without-role")
