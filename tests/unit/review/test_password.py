"""The account password policy: missing, weaker than the baseline, baseline from the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iamgraph.review.config import PasswordBaseline
from iamgraph.review.families.password import shortfalls

from .builder import ACCOUNT, Acct, of, root, run

STRONG: dict[str, Any] = {
    "MinimumPasswordLength": 16,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "PasswordReusePrevention": 24,
    "ExpirePasswords": False,
}


def _with_console_user(a: Acct) -> Acct:
    a.user("person")
    a.credentials("person", password=True, mfa=True)
    return a


def test_missing_policy(tmp_path: Path) -> None:
    a = _with_console_user(Acct())
    a.account_info(password_policy=None, summary={"Users": 1}, alias="prod")
    [f] = of(run(tmp_path, a), "password-policy-missing")
    assert f["subject"] == root() and f["severity"] == "medium" and f["file"] == f"accounts/{ACCOUNT}/account.json"
    assert f["evidence"]["details"]["console_users"] == 1


def test_missing_policy_without_console_users_is_low(tmp_path: Path) -> None:
    a = Acct()
    a.root_credentials()
    a.account_info(summary={"Users": 0})
    [f] = of(run(tmp_path, a), "password-policy-missing")
    assert f["severity"] == "low"


def test_unknown_without_account_json(tmp_path: Path) -> None:
    r = run(tmp_path, _with_console_user(Acct()))
    assert not of(r, "password-policy-missing")
    assert any("password-policy-missing" in n["checks"] and n["account"] == ACCOUNT for n in r["not_assessed"])


def test_weak_and_strong(tmp_path: Path) -> None:
    weak = _with_console_user(Acct())
    weak.account_info(password_policy={**STRONG, "MinimumPasswordLength": 8, "RequireSymbols": False})
    [f] = of(run(tmp_path / "weak", weak), "password-policy-weak")
    assert [g["setting"] for g in f["evidence"]["details"]["shortfalls"]] == ["MinimumPasswordLength", "RequireSymbols"]
    strong = _with_console_user(Acct())
    strong.account_info(password_policy=STRONG)
    assert not of(run(tmp_path / "strong", strong), "password-policy-weak")


def test_baseline_from_config(tmp_path: Path) -> None:
    a = _with_console_user(Acct())
    a.account_info(password_policy=STRONG)
    r = run(tmp_path, a, password=PasswordBaseline(max_age_days=90, minimum_length=20))
    [f] = of(r, "password-policy-weak")
    assert {g["setting"] for g in f["evidence"]["details"]["shortfalls"]} == {"MinimumPasswordLength", "MaxPasswordAge"}


def test_shortfalls_reads_missing_keys_as_unset() -> None:
    gaps = shortfalls({}, PasswordBaseline())
    assert {g["setting"] for g in gaps} == {
        "MinimumPasswordLength",
        "RequireSymbols",
        "RequireNumbers",
        "RequireUppercaseCharacters",
        "RequireLowercaseCharacters",
        "PasswordReusePrevention",
    }
    assert not shortfalls({**STRONG, "ExpirePasswords": True, "MaxPasswordAge": 60}, PasswordBaseline(max_age_days=90))
