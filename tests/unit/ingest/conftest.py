"""Shared paths of the ingest tests: the small focused snapshots under fixtures/small/."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.ingest import load_snapshot
from iamgraph.model.snapshot import Snapshot

SMALL = Path(__file__).resolve().parents[3] / "fixtures" / "small"


@pytest.fixture(scope="session")
def small() -> Path:
    return SMALL


@pytest.fixture(scope="session")
def single() -> Snapshot:
    return load_snapshot(SMALL / "single-account")


@pytest.fixture(scope="session")
def org_snapshot() -> Snapshot:
    return load_snapshot(SMALL / "org")
