"""The on-disk review fixtures (fixtures/review/<family>/{positive,negative}) against their expected.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from iamgraph.graph.queries import Analysis
from iamgraph.ingest import load_snapshot
from iamgraph.review import ReviewConfig, review

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "review"
CASES = [(f.name, case) for f in sorted(FIXTURES.iterdir()) if f.is_dir() for case in ("positive", "negative")]


@pytest.mark.parametrize(("family", "case"), CASES, ids=[f"{f}-{c}" for f, c in CASES])
def test_fixture(family: str, case: str) -> None:
    expected: dict[str, list[str]] = json.loads((FIXTURES / family / "expected.json").read_text())[case]
    config = ReviewConfig().with_overrides(as_of=datetime(2026, 11, 15, tzinfo=UTC), as_of_source="test")
    report: dict[str, Any] = review(Analysis.of(load_snapshot(FIXTURES / family / case)), config).to_json()
    for check, ids in expected.items():
        found = sorted(f["id"].split(":", 1)[1] for f in report["findings"] if f["check"] == check)
        assert found == sorted(ids), check


def test_every_family_has_both_cases() -> None:
    for family in (f for f in FIXTURES.iterdir() if f.is_dir()):
        doc = json.loads((family / "expected.json").read_text())
        assert set(doc) >= {"positive", "negative"} and doc["positive"] and doc["negative"]
        assert any(doc["positive"].values()), family.name  # the positive case fires
