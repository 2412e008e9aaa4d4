"""Redaction: no account id or estate name survives, and one value always gets one pseudonym."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from iamgraph.graph.queries import Analysis
from iamgraph.ingest import load_snapshot
from ui.redact import Redactor
from ui.render import network
from ui.view import ViewQuery, build_view

from .conftest import DEMO, DEPLOY, DEPLOY_SID, GET_SECRET, SECRET

KEY = b"a review key"


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return Analysis.of(load_snapshot(DEMO))


@pytest.fixture(scope="module")
def view(demo: Analysis) -> dict[str, Any]:
    return build_view(demo, ViewQuery(kind="who-can", resource=SECRET, action=GET_SECRET))


@pytest.fixture(scope="module")
def redacted(demo: Analysis, view: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = Redactor.for_analysis(demo, key=KEY).value(view)
    return out


def _secrets(analysis: Analysis) -> set[str]:
    """What must not survive: every account id named anywhere, aliases, names of the estate."""
    snap = analysis.snapshot
    found = {"o-7hq2k9x4m1", "r-7hq2", "ou-7hq2-pr0d4k2x", "303967410052", "572918364015", "example-org-cloudtrail"}
    for account in snap.accounts.values():
        found |= {account.id, account.alias or account.id}
        found |= {u.name for u in account.users.values()} | {g.name for g in account.groups.values()}
        found |= {r.name for r in account.roles.values() if r.name != "OrganizationAccountAccessRole"}
    assert snap.organization is not None
    found |= {a.name for a in snap.organization.accounts.values()}
    return found


def test_no_account_id_or_name_survives(demo: Analysis, view: dict[str, Any], redacted: dict[str, Any]) -> None:
    before, after = json.dumps(view), json.dumps(redacted)
    shown = [s for s in _secrets(demo) if s in before]
    assert len(shown) > 20  # the check below is not vacuous
    left = [s for s in shown if re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", after)]
    assert left == []
    assert not re.search(r"(?<!\d)\d{12}(?!\d)", after)
    assert "db-credentials-Xk3p9Q" not in after and "CrossAccountDeploy" not in after


def test_one_value_one_pseudonym_everywhere(demo: Analysis, view: dict[str, Any], redacted: dict[str, Any]) -> None:
    r = Redactor.for_analysis(demo, key=KEY)
    assert [n["id"] for n in redacted["nodes"]] == [r.text(n["id"]) for n in view["nodes"]]
    ids = {n["id"] for n in redacted["nodes"]}
    policies = {(s["layer"], s["policy"], s["index"]) for s in redacted["statements"]}
    for edge in redacted["edges"]:
        assert edge["source"] in ids and edge["target"] in ids
        for hop in edge["hops"]:
            assert (hop["source"], hop["target"]) == (edge["source"], edge["target"])
            assert {(p["layer"], p["policy"], p["index"]) for p in hop["proof"]} <= policies
    deploy, secret = r.text(DEPLOY), r.text(SECRET)
    statement = next(s for s in redacted["statements"] if s["sid"] == DEPLOY_SID)
    assert statement["policy"] == secret  # a resource policy is named by its resource's (pseudonymous) ARN
    assert deploy in json.dumps(statement["statement"])  # the ARN inside the statement text, rewritten alike
    net = network(redacted)
    assert {n["arn"] for n in net["nodes"]} == ids


def test_vocabulary_stays_readable(redacted: dict[str, Any]) -> None:
    text = json.dumps(redacted)
    for word in (GET_SECRET, "sts:AssumeRole", "arn:aws:iam::aws:policy/PowerUserAccess", "aws:RequestedRegion",
                 "OrganizationAccountAccessRole", "lambda.amazonaws.com", DEPLOY_SID, "StringNotEquals"):  # fmt: skip
        assert word in text, word
    kinds = {n["kind"] for n in redacted["nodes"]}
    assert {"role", "user", "resource"} <= kinds
    assert redacted["nodes"][0]["details"]["node"]["resource_type"] == "AWS::SecretsManager::Secret"


def test_pseudonyms_are_stable_for_a_key_and_differ_across_keys(demo: Analysis) -> None:
    one, again, other = (Redactor.for_analysis(demo, key=k) for k in (KEY, KEY, b"another key"))
    assert one.text(DEPLOY) == again.text(DEPLOY) != other.text(DEPLOY)
    assert one.text(DEPLOY).startswith("arn:aws:iam::acct-") and "deploy" not in one.text(DEPLOY).lower()


def test_service_prefixes_survive_only_as_prefixes() -> None:
    r = Redactor({"lambda": "role", "payments": "resource", "ab": "user"}, key=KEY)
    assert r.text("arn:aws:lambda:eu-west-1:111122223333:function:f").startswith("arn:aws:lambda:eu-west-1:acct-")
    assert r.text("lambda:InvokeFunction") == "lambda:InvokeFunction"
    assert "lambda" not in r.text("arn:aws:iam::111122223333:role/lambda")
    assert "payments" not in r.text("secret:prod/payments/db")
    assert r.text("ab") == "ab"  # names shorter than 3 characters are too common to rewrite


def test_extra_terms_and_org_ids(demo: Analysis) -> None:
    r = Redactor.for_analysis(demo, key=KEY, terms=["example-org"])
    out = r.text("repo:example-org/* in o-7hq2k9x4m1/r-7hq2/ou-7hq2-pr0d4k2x/")
    assert "example-org" not in out and "7hq2" not in out
    assert re.fullmatch(r"repo:term-[0-9a-f]{10}/\* in o-[0-9a-f]{10}/r-[0-9a-f]{10}/ou-[0-9a-f]{4}-[0-9a-f]{6}/", out)
