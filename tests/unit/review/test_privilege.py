"""Least privilege from the graph: admins, escalation paths, Permissions management, access summary."""

from __future__ import annotations

from pathlib import Path

from .builder import VENDOR, Acct, allow, iam, of, root, run, subjects, trust


def _estate() -> tuple[Acct, dict[str, str]]:
    a = Acct()
    names = {
        "admin": a.user("admin", managed=(a.admin_policy(),)),
        "breakglass": a.role("breakglass", trust({"AWS": root()}), managed=(a.admin_policy(),)),
        "climber": a.user("climber", allow("sts:AssumeRole", iam("role", "breakglass"))),
        "self": a.user("self", allow("iam:PutUserPolicy", iam("user", "self"))),
        "policies": a.user("policies", allow("iam:CreatePolicy")),
        "buckets": a.user("buckets", allow("s3:PutBucketPolicy", "arn:aws:s3:::data")),
        "reader": a.user("reader", allow("s3:GetObject", "arn:aws:s3:::data/*")),
        "vendor-admin": a.role("vendor-admin", trust({"AWS": VENDOR}), managed=(a.admin_policy(),)),
    }
    return a, names


def test_admins_direct_and_one_step(tmp_path: Path) -> None:
    a, n = _estate()
    r = run(tmp_path, a)
    found = {f["subject"]: f for f in of(r, "admin-principal")}
    assert {n["admin"], n["breakglass"], n["self"], n["vendor-admin"]} == set(found)
    assert found[n["admin"]]["severity"] == "medium"
    assert found[n["admin"]]["evidence"]["statements"], "the deciding statements of the admin verdict"
    one_step = found[n["self"]]
    assert one_step["severity"] == "high" and one_step["evidence"]["details"]["admin_via"] == "iam:PutUserPolicy"
    [path] = one_step["evidence"]["paths"]
    assert path["hops"][0]["source"] == path["hops"][0]["target"] == n["self"]
    assert r["summary"]["admins"] == 4
    assert root() not in found  # the root user is reviewed by the root checks


def test_escalation_paths(tmp_path: Path) -> None:
    a, n = _estate()
    r = run(tmp_path, a)
    found = {f["subject"]: f for f in of(r, "escalation-path")}
    climb = found[n["climber"]]
    assert climb["severity"] == "high"
    assert [h["technique"] for h in climb["evidence"]["paths"][0]["hops"]] == ["sts:AssumeRole"]
    assert n["breakglass"] in climb["evidence"]["principals"]
    assert any(s.get("layer") == "trust" for s in climb["evidence"]["statements"])
    outsider = found[root(VENDOR)]
    assert outsider["severity"] == "critical" and outsider["evidence"]["details"]["outsider"]
    assert outsider["file"] is not None, "an outsider's finding points at the account it enters"
    assert n["reader"] not in found and n["admin"] not in found


def test_permissions_management(tmp_path: Path) -> None:
    a, n = _estate()
    r = run(tmp_path, a)
    found = {f["subject"]: f for f in of(r, "permissions-management")}
    assert found[n["policies"]]["severity"] == "medium"
    assert found[n["policies"]]["evidence"]["details"]["actions"] == {"iam": ["iam:CreatePolicy"]}
    assert found[n["buckets"]]["severity"] == "low"
    assert found[n["policies"]]["evidence"]["statements"][0]["policy"].endswith("/inline/policies-inline")
    assert n["reader"] not in found and n["admin"] not in found  # read-only; admins are reported as admins


def test_access_summary(tmp_path: Path) -> None:
    a, n = _estate()
    rows = {row["principal"]: row for row in run(tmp_path, a)["access_summary"]}
    assert rows[n["admin"]]["admin"] is True and rows[n["admin"]]["totals"] is None
    assert rows[n["reader"]]["totals"] == {"Read": 1}
    off = run(tmp_path / "off", a, access_summary=False)
    assert off["access_summary"] is None
    assert "permissions-management" in {c for x in off["not_assessed"] for c in x["checks"]}
    assert not subjects(off, "permissions-management")


def test_access_summary_names_the_conditions_of_an_admin_under_conditions(tmp_path: Path) -> None:
    a, n = _estate()
    lead = a.user("lead", allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    rows = {row["principal"]: row for row in run(tmp_path, a)["access_summary"]}
    assert rows[lead]["admin"] is True and rows[lead]["totals"] is None
    [condition] = rows[lead]["admin_conditions"]
    assert condition["condition"]["key"] == "aws:MultiFactorAuthPresent"
    assert "admin_conditions" not in rows[n["admin"]]  # admin outright
