"""Groups and policies: users' own policies, inline policies, overly broad customer policies."""

from __future__ import annotations

from pathlib import Path

from .builder import ACCOUNT, Acct, allow, doc, iam, of, run, subjects, trust

LIST = allow("s3:ListAllMyBuckets")


def test_user_direct_policies(tmp_path: Path) -> None:
    a = Acct()
    team = a.group("team", LIST)
    grouped = a.user("grouped", groups=("team",))
    own = a.user("own", LIST)
    attached = a.user("attached", managed=(a.managed("Reader", doc(LIST)),))
    r = run(tmp_path, a)
    found = {f["subject"]: f for f in of(r, "user-direct-policies")}
    assert set(found) == {own, attached}
    assert found[own]["evidence"]["details"]["inline"] == [f"{own}/inline/own-inline"]
    assert grouped not in found and team
    assert found[attached]["severity"] == "low"


def test_inline_policy_duplicate_and_owner_specific(tmp_path: Path) -> None:
    a = Acct()
    a.role("one", trust({"Service": "lambda.amazonaws.com"}), allow("sqs:SendMessage", "*"))
    a.role("two", trust({"Service": "lambda.amazonaws.com"}), allow("sqs:SendMessage", "*"))
    a.role("single", trust({"Service": "lambda.amazonaws.com"}), allow("sns:Publish", "*"))
    me = iam("user", "self-service")
    a.user("self-service", allow("iam:ChangePassword", me))  # names its own user: one-to-one, fine inline
    found = {f["subject"]: f for f in of(run(tmp_path, a), "inline-policy")}
    one = f"{iam('role', 'one')}/inline/one-inline"
    single = f"{iam('role', 'single')}/inline/single-inline"
    assert found[one]["severity"] == "low" and found[one]["evidence"]["details"]["same_document"]
    assert found[single]["severity"] == "info"
    assert f"{me}/inline/self-service-inline" not in found


def test_broad_policy_patterns(tmp_path: Path) -> None:
    a = Acct()
    full = a.managed("Everything", doc(allow("*", sid="All")))
    iam_all = a.managed("IamAll", doc(allow("iam:*", sid="Iam")))
    passrole = a.managed("PassAny", doc(allow("iam:PassRole", "*", sid="Pass")))
    notaction = a.managed("AllButIam", doc({"Sid": "Not", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
    scoped = a.managed("PassOne", doc(allow("iam:PassRole", iam("role", "app/worker"))))
    conditioned = a.managed(
        "PassToLambda",
        doc(allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})),
    )
    unattached = a.managed("Unused", doc(allow("*")))
    boundary = a.managed("Boundary", doc(allow("*")))
    a.user("holder", managed=(full, iam_all, passrole, notaction, scoped, conditioned), boundary=boundary)
    r = run(tmp_path, a)
    found = {f["subject"]: f for f in of(r, "broad-policy")}
    assert (
        found[full]["severity"] == "high"
        and found[full]["evidence"]["details"]["statements"][0]["pattern"] == "full-admin"
    )
    assert found[iam_all]["evidence"]["details"]["statements"][0]["pattern"] == "iam-all"
    assert found[passrole]["severity"] == "medium"
    assert found[notaction]["evidence"]["details"]["statements"][0]["pattern"] == "not-action"
    assert found[conditioned]["severity"] == "low"  # conditions lower it one step
    assert found[unattached]["severity"] == "low" and found[unattached]["evidence"]["details"]["usage"] == "unattached"
    assert scoped not in found and boundary not in found  # named role; a boundary grants nothing
    assert found[full]["evidence"]["principals"] == [iam("user", "holder")]
    assert found[full]["evidence"]["statements"][0]["sid"] == "All"
    assert found[full]["file"] == f"accounts/{ACCOUNT}/authorization-details.json"


def test_broad_inline_and_aws_managed_not_reported(tmp_path: Path) -> None:
    a = Acct()
    a.user("admin", managed=(a.admin_policy(),))
    a.role("ops", trust({"Service": "ec2.amazonaws.com"}), allow("iam:*", "*"))
    r = run(tmp_path, a)
    assert subjects(r, "broad-policy") == {f"{iam('role', 'ops')}/inline/ops-inline"}
