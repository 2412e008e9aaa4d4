"""A principal that is admin only under conditions (MFA present) is admin as far as the what-if says: privesc
lists it with its conditions, a path that ends at it is conditional, and where the what-if denies the
conditions it is no admin at all and its own escalations are searched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iamgraph.graph.queries import Analysis, AssumeUnknown, WhatIf, exposure, privesc

from .estate_builder import Account, allow, arn, load, trust_aws

MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
VENDOR = "999988887777"


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    a = Account()
    # admin only with MFA, and able to become an admin role without it: a way around the MFA requirement
    a.user("lead", allow("*", Condition=MFA), allow("sts:AssumeRole", arn("role", "breakglass")))
    a.role("breakglass", trust_aws(arn("user", "lead")), managed=(a.admin_policy(),))
    # admin only with MFA; dev becomes it outright, so dev is admin under the same condition
    a.role("mfa-admin", trust_aws(arn("user", "dev")), allow("*", Condition=MFA))
    a.user("dev", allow("sts:AssumeRole", arn("role", "mfa-admin")))
    # an outside account becomes a role that is admin only with MFA
    a.role("vendor-admin", trust_aws(f"arn:aws:iam::{VENDOR}:root"), allow("*", Condition=MFA))
    return Analysis.of(load(tmp_path_factory.mktemp("estate"), a))


def escalations(result: dict[str, Any]) -> dict[str, tuple[bool, list[str]]]:
    return {
        e["principal"].rsplit(":", 1)[-1]: (e["conditional"], [h["target"].rsplit(":", 1)[-1] for h in e["path"]])
        for e in result["escalations"]
    }


def test_kept_conditions_list_the_admin_with_them(analysis: Analysis) -> None:
    r = privesc(analysis)
    assert arn("user", "lead") in r["admins"] and arn("role", "mfa-admin") in r["admins"]
    conditions = r["admin_conditions"]
    assert set(conditions) == {arn("user", "lead"), arn("role", "mfa-admin"), arn("role", "vendor-admin")}
    keys = {c["condition"]["key"] for cs in conditions.values() for c in cs}
    assert keys == {"aws:MultiFactorAuthPresent"}
    found = escalations(r)
    # lead reaches an admin outright: listed although it is admin with MFA
    assert found["user/lead"] == (False, ["role/breakglass"])
    # dev's only hop holds outright, but what it reaches is admin only with MFA
    assert found["user/dev"] == (True, ["role/mfa-admin"])
    assert "role/mfa-admin" not in found  # its only way to admin is its own, under the same condition


def test_denied_conditions_make_no_admin(analysis: Analysis) -> None:
    r = privesc(analysis, whatif=WhatIf({}, AssumeUnknown.DENY))
    assert arn("user", "lead") not in r["admins"] and arn("role", "mfa-admin") not in r["admins"]
    assert r["admin_conditions"] == {}
    found = escalations(r)
    assert found["user/lead"] == (False, ["role/breakglass"])
    assert "user/dev" not in found and "role/mfa-admin" not in found


def test_met_conditions_make_an_admin_outright(analysis: Analysis) -> None:
    r = privesc(analysis, whatif=WhatIf({"aws:MultiFactorAuthPresent": "true"}))
    assert {arn("user", "lead"), arn("role", "mfa-admin")} <= set(r["admins"])
    assert r["admin_conditions"] == {}
    found = escalations(r)
    assert found["user/dev"] == (False, ["role/mfa-admin"])
    assert "user/lead" not in found  # admin outright: not searched


@pytest.mark.parametrize(
    ("whatif", "conditional"),
    [(WhatIf(), True), (WhatIf({"aws:MultiFactorAuthPresent": "true"}), False), (WhatIf({}, AssumeUnknown.DENY), None)],
)
def test_exposure_says_an_outsider_reaches_an_admin_under_its_conditions(
    analysis: Analysis, whatif: WhatIf, conditional: bool | None
) -> None:
    (vendor,) = [
        o for o in exposure(analysis, whatif=whatif)["outsiders"] if o["node"] == f"arn:aws:iam::{VENDOR}:root"
    ]
    admins = {a["node"]: a["conditional"] for a in vendor["admins"]}
    assert vendor["reached"]["admins"] == len(admins)
    if conditional is None:  # no admin at all without MFA
        assert admins == {}
    else:  # with MFA, it is also admin in control of every principal of the account
        assert admins[arn("role", "vendor-admin")] is conditional
        assert set(admins.values()) == {conditional}


def test_the_terminal_shows_the_conditions_literally(tmp_path: Path) -> None:
    """Each hop and each admin under conditions says which, as text; a value that looks like markup stays
    text (condition values are written by whoever wrote the policy)."""
    from rich.console import Console

    from iamgraph.graph.queries import who_can
    from iamgraph.render import render_query

    a = Account()
    tricky = {"StringEquals": {"aws:SourceVpce": "[bold red]x[/][link=file:///etc]y[/link]"}}
    a.user("lead", allow("*", Condition=MFA))
    a.user("dev", allow("s3:ListBucket", "arn:aws:s3:::reports", Condition=tricky))
    a.resource("arn:aws:s3:::reports", "AWS::S3::Bucket")
    analysis = Analysis.of(load(tmp_path, a))
    console = Console(record=True, width=400, color_system=None)
    render_query(console, "privesc", privesc(analysis))
    render_query(console, "who-can", who_can(analysis, "arn:aws:s3:::reports", action="s3:ListBucket"))
    text = console.export_text()
    assert "user/lead (if aws:MultiFactorAuthPresent Bool true)" in text
    assert "(if aws:SourceVpce StringEquals [bold red]x[/][link=file:///etc]y[/link])" in text


def test_access_levels_say_admin_as_far_as_the_what_if_does(analysis: Analysis) -> None:
    from iamgraph.graph.queries import access_levels

    kept = access_levels(analysis, arn("user", "lead"))
    assert kept["admin"] is True
    assert [c["condition"]["key"] for c in kept["admin_conditions"]] == ["aws:MultiFactorAuthPresent"]
    met = access_levels(analysis, arn("user", "lead"), whatif=WhatIf({"aws:MultiFactorAuthPresent": "true"}))
    assert met["admin"] is True and "admin_conditions" not in met
    denied = access_levels(analysis, arn("user", "lead"), whatif=WhatIf({}, AssumeUnknown.DENY))
    assert denied["admin"] is False and "admin_conditions" not in denied
    assert access_levels(analysis, arn("role", "breakglass"))["admin"] is True
