"""`iamgraph simulate` end to end through the typer app."""

import json
from pathlib import Path

from typer.testing import CliRunner

from iamgraph.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "examples" / "simulate-demo.json"
runner = CliRunner()


def test_demo_readable() -> None:
    result = runner.invoke(app, ["simulate", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert "deploy-role-cross-account" in result.output
    assert "ExplicitlyDenied" in result.output and "blocked by: scp" in result.output
    assert "allowed if:" in result.output


def test_demo_json_lines() -> None:
    result = runner.invoke(app, ["simulate", str(DEMO), "--json"])
    assert result.exit_code == 0
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    by_id = {d["id"]: d for d in lines}
    assert by_id["deploy-role-cross-account"]["decision"] == "Allowed"
    assert by_id["scp-blocks-region"]["blocked_by"] == ["scp"]
    assert by_id["bucket-ip-restricted-partial"]["decision"] == "Conditional"
    assert by_id["bucket-ip-restricted-partial"]["residual"]
    assert by_id["kms-key-policy-without-iam-delegation"]["blocked_by"] == ["resource"]
    for d in lines:
        assert set(d) == {"id", "decision", "blocked_by", "matched", "residual", "warnings", "notes"}


def test_bad_document_reports_index_and_element_and_continues(tmp_path: Path) -> None:
    good = json.loads(DEMO.read_text())[0]
    bad = {
        "request": {"principal": "arn:aws:iam::111122223333:user/a", "action": "s3:GetObject", "resource": "*"},
        "identityPolicies": [
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqualz": {"a": "b"}}},
                ]
            }
        ],
    }
    f = tmp_path / "docs.jsonl"
    f.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    result = runner.invoke(app, ["simulate", str(f), "--json"])
    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 1
    assert "document 1" in result.stderr
    assert 'Statement[1].Condition: unknown operator "StringEqualz"' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_exact_context_flag(tmp_path: Path) -> None:
    doc = {
        "request": {
            "principal": "arn:aws:iam::111122223333:user/bob",
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k",
            "resourceAccount": "111122223333",
        },
        "identityPolicies": [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::b/*",
                        "Condition": {"StringEquals": {"aws:username": "bob"}},
                    }
                ],
            }
        ],
    }
    f = tmp_path / "d.json"
    f.write_text(json.dumps(doc))
    derived = json.loads(runner.invoke(app, ["simulate", str(f), "--json"]).stdout)
    exact = json.loads(runner.invoke(app, ["simulate", str(f), "--json", "--exact-context"]).stdout)
    assert derived["decision"] == "Allowed"
    assert exact["decision"] == "ImplicitlyDenied"


def test_unreadable_file() -> None:
    result = runner.invoke(app, ["simulate", "does-not-exist.json"])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
