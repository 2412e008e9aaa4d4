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
}


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
    validator = jsonschema.Draft202012Validator(_load(SCHEMAS / BY_NAME[path.name]))
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
    validator = jsonschema.Draft202012Validator(_load(SCHEMAS / BY_NAME[name]))
    assert not validator.is_valid(_load(path))
