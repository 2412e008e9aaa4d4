"""Settings and suppressions: closed formats, clear errors, and what suppressions do (and fail to do)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from iamgraph.errors import InputError
from iamgraph.review import ReviewConfig, Severity, parse_suppressions

from .builder import Acct, Key, iam, of, run

OLD = "2024-01-01T00:00:00+00:00"


def test_config_from_mapping() -> None:
    c = ReviewConfig.from_mapping(
        {
            "as_of": "2026-11-15",
            "min_severity": "low",
            "thresholds": {"unused_days": 45, "rotation_days": 180},
            "password_policy": {"minimum_length": 16, "max_age_days": 0},
            "severity": {"inline-policy": "low"},
            "skip": ["user-access-keys-only"],
            "sensitive_actions": ["iam:CreateAccessKey"],
        },
        where="review.toml",
    )
    assert c.as_of == datetime(2026, 11, 15, tzinfo=UTC) and c.as_of_source == "config file"
    assert (c.unused_days, c.rotation_days, c.root_recent_days) == (45, 180, 90)
    assert c.password.minimum_length == 16 and c.password.max_age_days is None
    assert c.severity == {"inline-policy": Severity.LOW} and not c.enabled("user-access-keys-only")
    assert c.with_overrides(unused_days=10, rotation_days=None).unused_days == 10


@pytest.mark.parametrize(
    ("doc", "element"),
    [
        ({"thresholds": {"unused_dayz": 3}}, "thresholds.unused_dayz"),
        ({"colour": "blue"}, "colour"),
        ({"thresholds": {"unused_days": 0}}, "thresholds.unused_days"),
        ({"thresholds": {"unused_days": True}}, "thresholds.unused_days"),
        ({"checks": ["no-such-check"]}, "checks"),
        ({"severity": {"inline-policy": "urgent"}}, "severity.inline-policy"),
        ({"severity": {"nope": "low"}}, "severity.nope"),
        ({"sensitive_actions": ["iam:MakeMeAdmin"]}, "sensitive_actions"),
        ({"password_policy": {"require_symbols": "yes"}}, "password_policy.require_symbols"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"access_summary": "no"}, "access_summary"),
        ({"skip": "inline-policy"}, "skip"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_config_errors_name_the_setting(doc: dict[str, Any], element: str) -> None:
    with pytest.raises(InputError) as exc:
        ReviewConfig.from_mapping(doc, where="review.toml")
    assert exc.value.where == "review.toml" and exc.value.element == element


@pytest.mark.parametrize(
    ("doc", "element"),
    [
        ({"suppressions": [{"check": "inline-policy"}]}, "suppressions[0].reason"),
        ({"suppressions": [{"check": "inline-policy", "reason": "  "}]}, "suppressions[0].reason"),
        ({"suppressions": [{"reason": "why"}]}, "suppressions[0]"),
        ({"suppressions": [{"check": "typo-check", "reason": "why"}]}, "suppressions[0].check"),
        ({"suppressions": [{"check": "inline-policy", "reason": "x", "expires": "soon"}]}, "suppressions[0].expires"),
        ({"suppressions": [{"check": "inline-policy", "reason": "x", "until": "2027-01-01"}]}, "suppressions[0].until"),
    ],
)
def test_suppression_errors(doc: dict[str, Any], element: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_suppressions(doc, where="suppressions.toml")
    assert exc.value.element == element


def _estate() -> Acct:
    a = Acct()
    for name in ("bot-a", "bot-b"):
        a.user(name)
        a.credentials(name, keys=(Key(rotated=OLD, used="2026-11-01T00:00:00+00:00"),))
    return a


def test_suppress_by_check_and_glob_with_reason(tmp_path: Path) -> None:
    rules = parse_suppressions(
        {
            "suppressions": [
                {
                    "check": "access-key-not-rotated",
                    "subject": "arn:aws:iam::*:user/bot-a",
                    "reason": "rotation scheduled (SEC-1)",
                }
            ]
        }
    )
    r = run(tmp_path, _estate(), suppressions=rules)
    assert {f["subject"] for f in of(r, "access-key-not-rotated")} == {iam("user", "bot-b")}
    [hidden] = [f for f in r["suppressed"] if f["check"] == "access-key-not-rotated"]
    assert hidden["subject"] == iam("user", "bot-a") and hidden["suppression"]["reason"] == "rotation scheduled (SEC-1)"
    assert r["summary"]["suppressed"] == 1 and not r["suppressions"]["unused"]


def test_expired_and_unused_suppressions_are_reported(tmp_path: Path) -> None:
    rules = parse_suppressions(
        {
            "suppressions": [
                {"id": f"access-key-not-rotated:{iam('user', 'bot-a')}#key1", "reason": "old", "expires": "2026-01-31"},
                {"check": "root-mfa-disabled", "reason": "nothing to hide"},
            ]
        }
    )
    r = run(tmp_path, _estate(), suppressions=rules)
    assert iam("user", "bot-a") in {f["subject"] for f in of(r, "access-key-not-rotated")}, "expired: shown again"
    [expired] = r["suppressions"]["expired"]
    assert expired["would_match"] == [f"access-key-not-rotated:{iam('user', 'bot-a')}#key1"]
    assert [u["check"] for u in r["suppressions"]["unused"]] == ["root-mfa-disabled"]
    assert r["suppressions"]["checked_against"] == {"date": "2026-11-15", "source": "as-of"}


def test_expiry_without_as_of_uses_the_callers_date(tmp_path: Path) -> None:
    from iamgraph.review import review

    from .builder import analyse

    rules = parse_suppressions(
        {"suppressions": [{"check": "user-access-keys-only", "reason": "r", "expires": "2026-06-01"}]}
    )
    analysis = analyse(tmp_path, _estate())
    before = review(analysis, ReviewConfig(), rules, today=date(2026, 5, 1)).to_json()
    after = review(analysis, ReviewConfig(), rules, today=date(2026, 7, 1)).to_json()
    assert before["summary"]["suppressed"] == 2 and not before["suppressions"]["expired"]
    assert after["summary"]["suppressed"] == 0 and after["suppressions"]["expired"]
    assert after["suppressions"]["checked_against"] == {"date": "2026-07-01", "source": "today"}


def test_severity_override_and_min_severity(tmp_path: Path) -> None:
    r = run(tmp_path, _estate(), severity={"access-key-not-rotated": Severity.HIGH}, min_severity=Severity.MEDIUM)
    assert {f["severity"] for f in of(r, "access-key-not-rotated")} == {"high"}
    assert not of(r, "user-access-keys-only") and r["summary"]["below_min_severity"] >= 2
