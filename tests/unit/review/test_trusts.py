"""Role trusts: outside the organization, ExternalId, OIDC aud/sub, anyone; blocked by RCP or not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .builder import ACCOUNT, ORG_ID, SIBLING, VENDOR, Acct, allow, doc, of, organization, root, run, subjects, trust

GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
HOST = "token.actions.githubusercontent.com"
# Deny sts:AssumeRole to principals outside the organization (the data-perimeter RCP pattern)
PERIMETER = doc(
    {
        "Sid": "EnforceOrgIdentities",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sts:AssumeRole",
        "Resource": "*",
        "Condition": {
            "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
            "StringNotEquals": {"aws:ResourceTag/perimeter-exempt": "true"},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
    }
)


def _role_trusting(principal: Any, **condition: Any) -> Acct:
    a = Acct()
    a.role("target", trust(principal, **({"Condition": condition} if condition else {})), allow("s3:ListAllMyBuckets"))
    return a


def test_outside_org_with_and_without_external_id(tmp_path: Path) -> None:
    a = Acct()
    plain = a.role("plain", trust({"AWS": VENDOR}))
    guarded = a.role(
        "guarded",
        trust({"AWS": f"arn:aws:iam::{VENDOR}:root"}, Condition={"StringEquals": {"sts:ExternalId": "s3cr3t"}}),
    )
    sibling = a.role("sibling", trust({"AWS": SIBLING}))
    r = run(tmp_path, a, Acct(id=SIBLING), org=organization(ACCOUNT, SIBLING))
    assert subjects(r, "trust-outside-organization") == {plain, guarded}
    [no_id] = of(r, "trust-without-external-id")
    assert no_id["subject"] == plain and no_id["severity"] == "high"
    assert no_id["id"].endswith(f"#{VENDOR}")
    assert no_id["evidence"]["paths"][0]["hops"][0]["source"] == root(VENDOR)
    assert no_id["evidence"]["statements"][0]["layer"] == "trust"
    assert sibling not in subjects(r, "trust-outside-organization")


def test_external_id_wildcard_does_not_count(tmp_path: Path) -> None:
    a = _role_trusting({"AWS": VENDOR}, StringLike={"sts:ExternalId": "*"})
    assert of(run(tmp_path, a), "trust-without-external-id")


def test_blocked_by_rcp_is_low(tmp_path: Path) -> None:
    a = Acct()
    blocked = a.role("blocked", trust({"AWS": VENDOR}))
    exempt = a.role("exempt", trust({"AWS": VENDOR}), tags={"perimeter-exempt": "true"})
    r = run(tmp_path, a, org=organization(ACCOUNT, rcps=(PERIMETER,)))
    found = {f["subject"]: f for f in of(r, "trust-without-external-id")}
    assert found[blocked]["severity"] == "low" and found[blocked]["evidence"]["details"]["blocked_by"] == ["rcp"]
    assert not found[blocked]["evidence"]["paths"], "no edge: the RCP denies it"
    assert found[exempt]["severity"] == "high" and found[exempt]["evidence"]["details"]["effective"]


def test_without_organization_outside_the_snapshot(tmp_path: Path) -> None:
    r = run(tmp_path, _role_trusting({"AWS": VENDOR}))
    [f] = of(r, "trust-outside-organization")
    assert "no organization data" in f["title"] and f["evidence"]["details"]["in_organization"] is None


def test_oidc_without_sub_is_critical(tmp_path: Path) -> None:
    a = _role_trusting({"Federated": GITHUB}, StringEquals={f"{HOST}:aud": "sts.amazonaws.com"})
    a.resources.append({"arn": GITHUB, "type": "AWS::IAM::OIDCProvider", "region": None, "policy": None})
    [f] = of(run(tmp_path, _fix_action(a)), "oidc-trust-missing-condition")
    assert f["severity"] == "critical" and f["evidence"]["details"]["missing"] == ["sub"]
    assert GITHUB in f["evidence"]["principals"]


def test_oidc_without_aud_is_medium(tmp_path: Path) -> None:
    a = _fix_action(
        _role_trusting({"Federated": GITHUB}, StringEquals={f"{HOST}:sub": "repo:org/app:ref:refs/heads/main"})
    )
    [f] = of(run(tmp_path, a), "oidc-trust-missing-condition")
    assert f["severity"] == "medium" and f["evidence"]["details"]["missing"] == ["aud"]


def test_oidc_broad_and_exact_subject(tmp_path: Path) -> None:
    broad = _fix_action(
        _role_trusting(
            {"Federated": GITHUB},
            StringEquals={f"{HOST}:aud": "sts.amazonaws.com"},
            StringLike={f"{HOST}:sub": "repo:org/*"},
        )
    )
    r = run(tmp_path / "broad", broad)
    [f] = of(r, "oidc-trust-broad-subject")
    assert f["evidence"]["details"]["subjects"] == ["repo:org/*"] and not of(r, "oidc-trust-missing-condition")
    exact = _fix_action(
        _role_trusting(
            {"Federated": GITHUB},
            StringEquals={f"{HOST}:aud": "sts.amazonaws.com", f"{HOST}:sub": "repo:org/app:ref:refs/heads/main"},
        )
    )
    clean = run(tmp_path / "exact", exact)
    assert not of(clean, "oidc-trust-broad-subject") and not of(clean, "oidc-trust-missing-condition")


def test_sub_wildcard_everything_counts_as_missing(tmp_path: Path) -> None:
    a = _fix_action(
        _role_trusting(
            {"Federated": GITHUB}, StringEquals={f"{HOST}:aud": "sts.amazonaws.com"}, StringLike={f"{HOST}:sub": "*"}
        )
    )
    [f] = of(run(tmp_path, a), "oidc-trust-missing-condition")
    assert f["evidence"]["details"]["missing"] == ["sub"]


def test_trust_to_anyone(tmp_path: Path) -> None:
    open_role = _role_trusting("*")
    [f] = of(run(tmp_path / "open", open_role), "trust-to-anyone")
    assert f["severity"] == "critical" and "*" in f["evidence"]["principals"]
    org_only = _role_trusting({"AWS": "*"}, StringEquals={"aws:PrincipalOrgID": ORG_ID})
    assert not of(run(tmp_path / "org", org_only, org=organization(ACCOUNT)), "trust-to-anyone")


def _fix_action(a: Acct) -> Acct:
    """OIDC trusts allow sts:AssumeRoleWithWebIdentity."""
    for role in a.roles:
        for st in role["AssumeRolePolicyDocument"]["Statement"]:
            if "Federated" in st["Principal"]:
                st["Action"] = "sts:AssumeRoleWithWebIdentity"
    return a
