"""Per-service action tables and action-name wildcard patterns.

A service's table is built from its JSON file on first use. Names and access levels are indexed
eagerly (cheap); ``ActionInfo`` records with their resource types are built on first request.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from iamgraph.catalog.records import AccessLevel, ActionInfo, ResourceTypeRef
from iamgraph.catalog.source import RawAction, RawActionResourceType, RawResourceType

__all__ = ["ServiceActions", "compile_action_glob", "has_wildcard"]


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def compile_action_glob(pattern: str) -> re.Pattern[str]:
    """``*`` matches any run (including none), ``?`` exactly one character; compiled on the lowercased
    pattern, so match it against lowercased names."""
    pieces = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern.lower())
    return re.compile("".join(pieces), re.DOTALL)


class ServiceActions:
    """The actions of one service prefix."""

    def __init__(
        self,
        service: str,
        raw: dict[str, RawAction],
        resource_types: Callable[[], dict[str, RawResourceType]],
    ) -> None:
        self.service = service
        self._raw = raw
        self._resource_types = resource_types
        self.canonical: dict[str, str] = {lowered: f"{service}:{entry['name']}" for lowered, entry in raw.items()}
        """Lowercased action name without prefix -> canonical full name."""
        self.sorted_names: tuple[str, ...] = tuple(sorted(self.canonical.values()))
        levels: dict[str, AccessLevel] = {}
        parsed: dict[str, AccessLevel] = {}
        for lowered, entry in raw.items():
            value = entry["accessLevel"]
            if value not in parsed:
                parsed[value] = AccessLevel.from_data(value)
            levels[lowered] = parsed[value]
        self.levels = levels
        self._infos: dict[str, ActionInfo] = {}

    def matching(self, name_regex: re.Pattern[str]) -> list[str]:
        """Canonical names whose lowercased action part fully matches ``name_regex``."""
        return [full for lowered, full in self.canonical.items() if name_regex.fullmatch(lowered)]

    def info(self, lowered: str) -> ActionInfo | None:
        found = self._infos.get(lowered)
        if found is None:
            entry = self._raw.get(lowered)
            if entry is None:
                return None
            found = self._build(lowered, entry)
            self._infos[lowered] = found
        return found

    def _build(self, lowered: str, entry: RawAction) -> ActionInfo:
        types = self._resource_types()
        merged: dict[str, RawActionResourceType] = {}
        for ref in entry["resourceTypes"]:
            previous = merged.get(ref["name"])  # a few actions list the same type twice
            if previous is None:
                merged[ref["name"]] = ref
            else:
                merged[ref["name"]] = RawActionResourceType(
                    name=ref["name"],
                    required=previous["required"] or ref["required"],
                    conditionKeys=_union(previous["conditionKeys"], ref["conditionKeys"]),
                    dependentActions=_union(previous["dependentActions"], ref["dependentActions"]),
                )
        refs = tuple(_resource_type_ref(ref, types.get(ref["name"].lower())) for ref in merged.values())
        dependent = _union(entry["dependentActions"], *(ref["dependentActions"] for ref in merged.values()))
        return ActionInfo(
            name=self.canonical[lowered],
            service=self.service,
            access_level=self.levels[lowered],
            resource_types=refs,
            condition_keys=tuple(entry["conditionKeys"]),
            dependent_actions=tuple(dependent),
            description=entry.get("description", ""),
        )


def _resource_type_ref(ref: RawActionResourceType, resource_type: RawResourceType | None) -> ResourceTypeRef:
    return ResourceTypeRef(
        name=ref["name"],
        required=ref["required"],
        arn_template=resource_type["arn"] if resource_type is not None else "",
        condition_keys=tuple(ref["conditionKeys"]),
        resource_condition_keys=tuple(resource_type.get("conditionKeys", ())) if resource_type else (),
    )


def _union(*lists: list[str]) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))
