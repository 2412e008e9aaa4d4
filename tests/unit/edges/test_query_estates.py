"""Query answers that need a small purpose-built estate (access-levels, exposure findings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iamgraph.graph.queries import Analysis, access_levels, exposure

from .estate_builder import Account, allow, arn, load


def test_access_levels_count_actions_that_need_a_resource_policy_grant(tmp_path: Path) -> None:
    """sts:AssumeRole (a trust) and KMS (a key policy) count by what the principal's own policies allow."""
    a = Account()
    a.role(
        "analyst",
        {"Version": "2012-10-17", "Statement": []},
        allow("sts:AssumeRole", "arn:aws:iam::444455556666:role/Reporting"),
        allow("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/*"),
    )
    r = access_levels(Analysis.of(load(tmp_path, a)), arn("role", "analyst"))
    assert r["services"]["sts"]["Write"]["allowed"] == ["sts:AssumeRole"]
    assert r["services"]["kms"]["Write"]["allowed"] == ["kms:Decrypt"]


@pytest.mark.parametrize(
    ("condition", "finding"),
    [
        ({"StringEquals": {"sts:ExternalId": "f3b1c2"}}, None),
        ({"StringLike": {"sts:ExternalId": "*"}}, "trust-with-weak-external-id"),
        ({"StringEqualsIfExists": {"sts:ExternalId": "f3b1c2"}}, "trust-with-weak-external-id"),
        (None, "trust-without-external-id"),
    ],
)
def test_exposure_judges_the_external_id(tmp_path: Path, condition: dict[str, Any] | None, finding: str | None) -> None:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}
    statement |= {"Action": "sts:AssumeRole", **({"Condition": condition} if condition else {})}
    a = Account()
    a.role("vendor", {"Version": "2012-10-17", "Statement": [statement]})
    found = {
        f["finding"] for f in exposure(Analysis.of(load(tmp_path, a)))["findings"] if f["role"] == arn("role", "vendor")
    }
    assert found == ({finding} if finding else set())
