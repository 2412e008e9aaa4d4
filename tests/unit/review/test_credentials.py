"""Root user and IAM user credential checks (credential report, account summary), positive and negative."""

from __future__ import annotations

from pathlib import Path

from .builder import ACCOUNT, Acct, Key, iam, of, root, run, subjects

OLD = "2025-01-01T00:00:00+00:00"  # more than 90 days before 2026-11-15
RECENT = "2026-11-01T00:00:00+00:00"


def test_root_access_key_and_mfa(tmp_path: Path) -> None:
    a = Acct()
    a.root_credentials(mfa=False, keys=(Key(rotated=OLD, used=RECENT),))
    r = run(tmp_path, a)
    [key] = of(r, "root-access-key")
    assert key["subject"] == root() and key["severity"] == "critical"
    assert key["evidence"]["principals"] == [root()]
    assert key["file"] == f"accounts/{ACCOUNT}/credential-report.csv"
    assert subjects(r, "root-mfa-disabled") == {root()}
    assert subjects(r, "access-key-not-rotated") == {root()}  # the root key is old, too
    assert subjects(r, "root-recently-used") == {root()}  # its key was used 14 days ago


def test_root_clean(tmp_path: Path) -> None:
    a = Acct()
    a.root_credentials(mfa=True, used=OLD)
    r = run(tmp_path, a)
    for check in ("root-access-key", "root-mfa-disabled", "root-recently-used"):
        assert not of(r, check), check


def test_root_from_account_summary_without_report(tmp_path: Path) -> None:
    a = Acct()
    a.account_info(summary={"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1})
    r = run(tmp_path, a)
    assert of(r, "root-access-key")[0]["file"] == f"accounts/{ACCOUNT}/account.json"
    assert subjects(r, "root-mfa-disabled") == {root()}
    b = Acct()
    b.account_info(summary={"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0})
    clean = run(tmp_path / "b", b)
    assert not of(clean, "root-access-key") and not of(clean, "root-mfa-disabled")


def test_no_report_is_not_assessed(tmp_path: Path) -> None:
    r = run(tmp_path, Acct())
    stopped = {c for n in r["not_assessed"] if n["account"] == ACCOUNT for c in n["checks"]}
    assert {"root-access-key", "user-console-without-mfa", "access-key-not-rotated"} <= stopped


def test_console_without_mfa_and_admin_bump(tmp_path: Path) -> None:
    a = Acct()
    admin = a.user("boss", managed=(a.admin_policy(),))
    plain = a.user("clerk", {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    a.user("careful", {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    a.credentials("boss", password=True, mfa=False)
    a.credentials("clerk", password=True, mfa=False)
    a.credentials("careful", password=True, mfa=True)
    found = {f["subject"]: f for f in of(run(tmp_path, a), "user-console-without-mfa")}
    assert set(found) == {admin, plain}
    assert found[admin]["severity"] == "high" and found[admin]["evidence"]["details"]["admin"] == "admin"
    assert found[plain]["severity"] == "medium"


def test_unused_and_unrotated(tmp_path: Path) -> None:
    a = Acct()
    stale = a.user("stale")
    fresh = a.user("fresh")
    never = a.user("never")
    a.credentials("stale", password=True, password_used=OLD, keys=(Key(rotated=OLD, used=OLD),))
    a.credentials("fresh", password=True, password_used=RECENT, keys=(Key(rotated=RECENT, used=RECENT),))
    a.credentials("never", keys=(Key(rotated=OLD, used=""),))
    r = run(tmp_path, a)
    unused = {f["subject"]: f["evidence"]["details"]["unused"] for f in of(r, "user-credential-unused")}
    assert set(unused) == {stale, never}
    assert set(unused[stale]) == {"password", "access key 1"}
    assert unused[never]["access key 1"].startswith("never used")
    assert {(f["subject"], f["id"].rsplit("#", 1)[-1]) for f in of(r, "access-key-not-rotated")} == {
        (stale, "key1"),
        (never, "key1"),
    }
    assert fresh not in subjects(r, "user-credential-unused")


def test_thresholds_are_configurable(tmp_path: Path) -> None:
    a = Acct()
    a.user("u")
    a.credentials("u", keys=(Key(rotated="2026-10-01T00:00:00+00:00", used=RECENT),))  # 45 days old
    assert not of(run(tmp_path / "a", a), "access-key-not-rotated")
    assert of(run(tmp_path / "b", a, rotation_days=30), "access-key-not-rotated")


def test_age_checks_need_an_as_of_time(tmp_path: Path) -> None:
    a = Acct()
    a.user("u")
    a.credentials("u", keys=(Key(rotated=OLD, used=OLD),))
    r = run(tmp_path, a, as_of=None)
    assert not of(r, "access-key-not-rotated") and not of(r, "user-credential-unused")
    assert r["as_of"]["time"] is None and "--as-of" in r["as_of"]["note"]
    stopped = {c for n in r["not_assessed"] for c in n["checks"]}
    assert {"access-key-not-rotated", "user-credential-unused", "root-recently-used"} <= stopped


def test_multiple_active_keys(tmp_path: Path) -> None:
    a = Acct()
    two = a.user("two")
    a.user("one")
    a.user("retired")
    a.credentials("two", keys=(Key(), Key(used="")))
    a.credentials("one", keys=(Key(),))
    a.credentials("retired", keys=(Key(), Key(active=False)))
    [f] = of(run(tmp_path, a), "user-multiple-active-keys")
    assert f["subject"] == two and "access key 2 never used" in f["title"]


def test_dual_credentials_one_unused(tmp_path: Path) -> None:
    a = Acct()
    dual = a.user("dual")
    both = a.user("both-used")
    a.credentials("dual", password=True, mfa=True, keys=(Key(used=""),))
    a.credentials("both-used", password=True, mfa=True, keys=(Key(),))
    r = run(tmp_path, a)
    assert subjects(r, "user-dual-credentials") == {dual}
    assert of(r, "user-dual-credentials")[0]["evidence"]["details"]["unused"] == {"access key 1": "never used"}
    assert both not in subjects(r, "user-dual-credentials")


def test_access_keys_only(tmp_path: Path) -> None:
    a = Acct()
    bot = a.user("bot")
    a.user("person")
    a.credentials("bot", keys=(Key(service="lambda"),))
    a.credentials("person", password=True, mfa=True)
    [f] = of(run(tmp_path, a), "user-access-keys-only")
    assert f["subject"] == bot and f["severity"] == "info" and "lambda" in f["title"]
    assert iam("user", "person") not in subjects(run(tmp_path / "again", a), "user-access-keys-only")
