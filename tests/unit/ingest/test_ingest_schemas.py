"""docs/schemas/ describe the fixtures: every good fixture file validates against its schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

jsonschema = pytest.importorskip("jsonschema")

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"
BY_NAME = {
    "authorization-details.json": "authorization-details.schema.json",
    "resources.json": "resources.schema.json",
    "organization.json": "organization.schema.json",
    "account.json": "account.schema.json",
    "aws-managed-policies.json": "aws-managed-policies.schema.json",
}


def _validator(schema: str) -> Any:
    """A validator of ``schema`` that resolves references to the other schemas of docs/schemas/ by their ids."""
    from referencing import Registry, Resource

    found = [_load(SCHEMAS / name) for name in sorted(set(BY_NAME.values()))]
    registry = Registry().with_resources((doc["$id"], Resource.from_contents(doc)) for doc in found)
    return jsonschema.Draft202012Validator(_load(SCHEMAS / schema), registry=registry)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("schema", sorted(BY_NAME.values()))
def test_schemas_are_valid(schema: str) -> None:
    jsonschema.Draft202012Validator.check_schema(_load(SCHEMAS / schema))


def _good_files() -> list[Path]:
    small = Path(__file__).resolve().parents[3] / "fixtures" / "small"
    return sorted(p for d in ("single-account", "org") for p in (small / d).rglob("*.json"))


@pytest.mark.parametrize("path", _good_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_good_fixture_matches_schema(path: Path) -> None:
    validator = _validator(BY_NAME[path.name])
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_load(path))]
    assert errors == []


@pytest.mark.parametrize(
    ("case", "name"),
    [
        ("resources-unknown-key", "resources.json"),
        ("account-json-unknown-key", "account.json"),
        ("org-unknown-key", "organization.json"),
        ("org-bad-type", "organization.json"),
        ("truncated-output", "authorization-details.json"),
        ("missing-list", "authorization-details.json"),
    ],
)
def test_schema_rejects_what_ingest_rejects(case: str, name: str) -> None:
    small = Path(__file__).resolve().parents[3] / "fixtures" / "small" / "bad" / case
    path = next(small.rglob(name))
    validator = _validator(BY_NAME[name])
    assert not validator.is_valid(_load(path))


def test_aws_managed_policies_schema() -> None:
    """The schema of aws-managed-policies.json takes the policy entries of authorization-details.json and
    rejects a customer managed policy and principals, as ingest does."""
    validator = _validator("aws-managed-policies.schema.json")
    details = _load(
        Path(__file__).resolve().parents[3]
        / "fixtures"
        / "small"
        / "single-account"
        / "accounts"
        / "111122223333"
        / "authorization-details.json"
    )
    aws = [p for p in details["Policies"] if ":iam::aws:policy/" in p["Arn"]]
    mine = [p for p in details["Policies"] if ":iam::aws:policy/" not in p["Arn"]]
    assert aws and mine, "the fixture has both kinds"
    assert validator.is_valid({"Policies": aws})
    assert validator.is_valid({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": aws})
    assert not validator.is_valid({"Policies": mine})
    assert not validator.is_valid({"Policies": aws, "UserDetailList": details["UserDetailList"]})
    assert not validator.is_valid({"Policies": [{**aws[0], "PolicyVersionList": "v1"}]})
