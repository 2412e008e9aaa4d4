"""Where the as-of time comes from: given (flag, config file, API parameter) wins; else the newest time a
credential report of the snapshot was generated (account.json); else none, and age checks are not assessed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iamgraph.cli import app
from iamgraph.review import ReviewConfig, parse_suppressions, review

from .builder import ACCOUNT, SIBLING, Acct, Key, analyse, iam, of, run, write

AGES = ("root-recently-used", "user-credential-unused", "access-key-not-rotated")
ROTATED = "2026-08-01T00:00:00+00:00"  # 106 days before 2026-11-15, 76 before 2026-10-16


def _estate(*generated: str | None) -> tuple[Acct, ...]:
    """One account per time, each with a user whose key was rotated on ROTATED and used recently."""
    accounts = []
    for account_id, when in zip((ACCOUNT, SIBLING), generated, strict=False):
        a = Acct(id=account_id)
        a.user("bot")
        a.credentials("bot", keys=(Key(rotated=ROTATED, used="2026-10-10T00:00:00+00:00"),))
        if when is not None:
            a.report_generated(when)
        accounts.append(a)
    return tuple(accounts)


def test_default_is_the_newest_report_of_the_snapshot(tmp_path: Path) -> None:
    r = run(tmp_path, *_estate("2026-10-16T09:00:00Z", "2026-11-15T08:30:00Z"), as_of=None)
    assert r["as_of"] == {
        "time": "2026-11-15T08:30:00+00:00",
        "source": f"credential report generated 2026-11-15T08:30:00Z (account {SIBLING})",
        "note": None,
    }
    # ages of every account count to that one time: both keys are 106 days old
    assert {f["subject"] for f in of(r, "access-key-not-rotated")} == {
        iam("user", "bot", ACCOUNT),
        iam("user", "bot", SIBLING),
    }
    assert not {c for n in r["not_assessed"] for c in n["checks"]} & set(AGES)


def test_an_account_without_a_time_does_not_stop_the_default(tmp_path: Path) -> None:
    r = run(tmp_path, *_estate(None, "2026-10-16T09:00:00+00:00"), as_of=None)
    assert r["as_of"]["source"] == f"credential report generated 2026-10-16T09:00:00Z (account {SIBLING})"
    assert not of(r, "access-key-not-rotated")  # 76 days at 2026-10-16


def test_a_tie_names_the_first_account(tmp_path: Path) -> None:
    r = run(tmp_path, *_estate("2026-11-15T08:30:00Z", "2026-11-15T08:30:00+00:00"), as_of=None)
    assert r["as_of"]["source"] == f"credential report generated 2026-11-15T08:30:00Z (account {ACCOUNT})"


def test_no_time_anywhere_means_not_assessed(tmp_path: Path) -> None:
    r = run(tmp_path, *_estate(None, None), as_of=None)
    assert r["as_of"]["time"] is None and r["as_of"]["source"] is None
    assert "credential_report_generated" in r["as_of"]["note"] and "--as-of" in r["as_of"]["note"]
    assert {c for n in r["not_assessed"] for c in n["checks"]} >= set(AGES)
    assert not of(r, "access-key-not-rotated")


def _given(source: str) -> ReviewConfig:
    """2026-10-16 given the way each caller gives it."""
    if source == "--as-of":
        from iamgraph.cli_review import build_config

        return build_config(None, as_of="2026-10-16", now=datetime(2030, 1, 1, tzinfo=UTC))
    if source == "config file":
        return ReviewConfig.from_mapping({"as_of": "2026-10-16"}, where="review.toml")
    from api.review_schemas import ReviewParams
    from api.routes.review import _config

    return _config(ReviewParams(as_of="2026-10-16"))


@pytest.mark.parametrize("source", ["--as-of", "config file", "as_of parameter"])
def test_a_given_time_wins(tmp_path: Path, source: str) -> None:
    r = review(analyse(tmp_path, *_estate("2026-11-15T08:30:00Z")), _given(source)).to_json()
    assert r["as_of"] == {"time": "2026-10-16T00:00:00+00:00", "source": source, "note": None}
    assert not of(r, "access-key-not-rotated")  # 76 days at the given time, 106 at the snapshot's


def test_the_default_judges_suppression_expiry(tmp_path: Path) -> None:
    rules = parse_suppressions(
        {"suppressions": [{"check": "user-access-keys-only", "reason": "pipeline", "expires": "2026-11-01"}]}
    )
    analysis = analyse(tmp_path, *_estate("2026-11-15T08:30:00Z"))
    doc = review(analysis, ReviewConfig(), rules, today=date(2026, 1, 1)).to_json()
    assert doc["suppressions"]["checked_against"] == {"date": "2026-11-15", "source": "as-of"}
    assert doc["suppressions"]["expired"] and not doc["suppressed"]


def test_report_config_is_left_as_given(tmp_path: Path) -> None:
    """The caller's ReviewConfig is not changed; the report carries the time it used."""
    config = ReviewConfig()
    report = review(analyse(tmp_path, *_estate("2026-11-15T08:30:00Z")), config)
    assert config.as_of is None
    assert report.config.as_of == datetime(2026, 11, 15, 8, 30, tzinfo=UTC)


# ---- on the command line --------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    return CliRunner(env={"IAMGRAPH_CACHE_DIR": str(tmp_path / "cache")})


def _as_of(cli: CliRunner, *args: str) -> dict[str, str | None]:
    res = cli.invoke(app, ["review", *args, "--json", "--no-access-summary"])
    assert res.exit_code == 0, res.output
    found: dict[str, str | None] = json.loads(res.stdout)["as_of"]
    return found


def test_cli_order_flag_then_config_then_snapshot(cli: CliRunner, tmp_path: Path) -> None:
    snapshot = str(write(tmp_path, *_estate("2026-11-15T08:30:00Z")))
    config = tmp_path / "review.toml"
    config.write_text("as_of = 2026-10-01\n")
    assert (
        _as_of(cli, "--data", snapshot)["source"]
        == f"credential report generated 2026-11-15T08:30:00Z (account {ACCOUNT})"
    )
    assert _as_of(cli, "--data", snapshot, "--config", str(config))["source"] == "config file"
    flag = _as_of(cli, "--data", snapshot, "--config", str(config), "--as-of", "2026-09-01")
    assert flag == {"time": "2026-09-01T00:00:00+00:00", "source": "--as-of", "note": None}


def test_cli_header_names_the_source(cli: CliRunner, tmp_path: Path) -> None:
    snapshot = str(write(tmp_path, *_estate("2026-11-15T08:30:00Z")))
    res = cli.invoke(app, ["review", "--data", snapshot, "--no-access-summary"])
    assert res.exit_code == 0, res.output
    first = res.stdout.splitlines()[0]
    assert first.endswith(
        f"as of 2026-11-15T08:30:00+00:00, from credential report generated 2026-11-15T08:30:00Z (account {ACCOUNT})"
    )
