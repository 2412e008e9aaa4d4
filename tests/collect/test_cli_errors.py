"""Bad input and unusable credentials: one line on stderr naming the option, file or account, exit
status 2, and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import collect
from .estate import MGMT, Estate
from .faults import FaultProxy, Rule

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens: a test fails loudly if a call is made


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--regions", "eu-west-1,nowhere"],
            'iamgraph collect: --regions: "nowhere" is not a region name like eu-west-1',
        ),
        (["--account", "12345"], 'iamgraph collect: --account: "12345" is not a 12-digit account id'),
        (["--parallel", "0"], "iamgraph collect: --parallel: must be between 1 and 64"),
        (["--retry-mode", "legacy"], "iamgraph collect: --retry-mode: must be one of standard, adaptive"),
        (
            ["--assume-role", "bad name"],
            'iamgraph collect: --assume-role: "bad name" is not a role name (or path/name)',
        ),
    ],
    ids=["region", "account", "parallel", "retry-mode", "role"],
)
def test_bad_option(tmp_path: Path, args: list[str], message: str) -> None:
    result = collect(tmp_path, UNREACHABLE, "--out", str(tmp_path / "out"), *args)
    assert result.exit_code == 2
    assert _one_line(result.stderr) == message
    assert not (tmp_path / "out").exists()


def test_out_directory_must_be_new_or_empty(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    result = collect(tmp_path, UNREACHABLE, "--out", str(out))
    assert result.exit_code == 2
    assert (
        _one_line(result.stderr) == f"iamgraph collect: {out}: exists and is not an empty directory (choose a new one)"
    )
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_unknown_profile(tmp_path: Path) -> None:
    result = collect(tmp_path, UNREACHABLE, "--out", str(tmp_path / "out"), "--profile", "nope")
    assert result.exit_code == 2
    assert _one_line(result.stderr) == 'iamgraph collect: AWS profile "nope" not found in the AWS config files'


def test_no_credentials(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from iamgraph.cli import app

    from .conftest import aws_env

    env = aws_env(tmp_path, UNREACHABLE) | {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
    result = CliRunner(env=env).invoke(app, ["collect", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert _one_line(result.stderr).startswith("iamgraph collect: no AWS credentials found (use --profile")
    assert not (tmp_path / "out").exists()


def test_profile_credentials_are_used(tmp_path: Path, estate: Estate) -> None:
    """--profile reads the shared credentials file; another account without --assume-role is refused."""
    (tmp_path / "no-credentials").write_text(
        "[audit]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = from-the-profile\n", encoding="utf-8"
    )
    result = collect(tmp_path, estate.url, "--out", str(tmp_path / "out"), "--profile", "audit",
                     "--account", "111122223333")  # fmt: skip
    assert result.exit_code == 2
    assert _one_line(result.stderr) == (
        f"iamgraph collect: --account 111122223333: the credentials are of account {MGMT}; "
        "reaching another account needs --assume-role NAME"
    )
    assert not (tmp_path / "out").exists()


def test_organization_not_readable(tmp_path: Path, estate: Estate) -> None:
    with FaultProxy(estate.url, [Rule("organizations", "AccessDeniedException", status=400)]) as proxy:
        result = collect(tmp_path, proxy.url, "--out", str(tmp_path / "out"), "--org")
    assert result.exit_code == 2
    line = _one_line(result.stderr)
    assert line.startswith(f"iamgraph collect: --org: the organization is not readable from account {MGMT} "
                           "(AccessDeniedException: ")  # fmt: skip
    assert line.endswith("run from the management account or a delegated administrator of AWS Organizations")
    assert not (tmp_path / "out").exists()


def test_account_not_in_the_organization(tmp_path: Path, estate: Estate) -> None:
    result = collect(tmp_path, estate.url, "--out", str(tmp_path / "out"), "--org", "--account", "999988887777")
    assert result.exit_code == 2
    assert _one_line(result.stderr) == (
        f"iamgraph collect: --account 999988887777: not an account of organization {estate.org_id}"
    )
    assert not (tmp_path / "out").exists()


def test_account_that_cannot_be_reached(tmp_path: Path, estate: Estate) -> None:
    """sts:AssumeRole refused: the account is reported as failed, no account directory, exit status 1."""
    out = tmp_path / "out"
    with FaultProxy(estate.url, [Rule("sts", "AccessDenied", operation="AssumeRole", status=403)]) as proxy:
        result = collect(tmp_path, proxy.url, "--out", str(out), "--account", estate.member,
                         "--assume-role", "OrganizationAccountAccessRole", "--regions", "eu-west-1")  # fmt: skip
    assert result.exit_code == 1, result.output
    assert f"not collected: account {estate.member}: failed, sts:AssumeRole failed (AccessDenied)" in result.stdout
    report = json.loads((out / "collection-report.json").read_text(encoding="utf-8"))
    [account] = report["accounts"]
    assert (account["status"], account["written"], account["access"]) == ("failed", False, "assume-role")
    [failure] = report["failures"]
    assert (failure["account"], failure["service"], failure["kind"]) == (estate.member, "sts", "access-denied")
    assert list((out / "accounts").iterdir()) == []
