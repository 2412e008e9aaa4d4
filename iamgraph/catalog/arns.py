"""ARN templates compiled once into anchored regexes, and the index that classifies concrete ARNs.

A template such as ``arn:${Partition}:s3:::${BucketName}/${ObjectName}`` becomes
``arn:[^:]+:s3:::.+/.+``: ``${Partition}`` needs a value, other placeholders in the five leading
segments (``${Region}``, ``${Account}``, ``${AccountId}``, ``${Vendor}``...) may be empty, placeholders in
the resource part match any run including ``/`` and ``:``, a literal ``*`` is a wildcard, the rest is
escaped literal text. Because placeholders are that loose, the bucket template also matches object
ARNs; a concrete ARN therefore *is* of the type(s) whose matching template has the most literal text.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from iamgraph.catalog.records import split_arn_templates

__all__ = ["ArnTypeIndex", "CompiledTemplate", "TypeKey", "compile_template", "parse_arn_service"]

TypeKey = tuple[str, str]
"""(owning service prefix, canonical resource-type name), e.g. ``("s3", "object")``."""

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LEADING_SEGMENTS = 5  # arn, partition, service, region, account; the resource part follows
_CACHE_SIZE = 1 << 18
_ANY_SERVICE = ""  # group of templates whose service segment is itself a placeholder
_NOTHING: frozenset[TypeKey] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledTemplate:
    """One ARN template of one resource type, compiled."""

    key: TypeKey
    template: str
    regex: re.Pattern[str]
    specificity: int


def compile_template(template: str, *, key: TypeKey) -> CompiledTemplate:
    """Compile one ARN template; ``specificity`` counts its literal characters."""
    segments = template.split(":", _LEADING_SEGMENTS)
    pieces: list[str] = []
    literal = 0
    for index, segment in enumerate(segments):
        in_resource = index == _LEADING_SEGMENTS
        if index:
            pieces.append(":")
            literal += 1
        position = 0
        for match in _VARIABLE.finditer(segment):
            pieces.append(_literal(segment[position : match.start()], in_resource))
            literal += _literal_length(segment[position : match.start()])
            pieces.append(_placeholder(match.group(1), in_resource))
            position = match.end()
        pieces.append(_literal(segment[position:], in_resource))
        literal += _literal_length(segment[position:])
    regex = re.compile("".join(pieces) + r"\Z")
    return CompiledTemplate(key=key, template=template, regex=regex, specificity=literal)


def _service_group(template: str) -> str:
    """The ARN service segment of a template, or the catch-all group when it is a placeholder."""
    segments = template.split(":", 3)
    service_segment = segments[2] if len(segments) > 2 else ""
    return _ANY_SERVICE if _VARIABLE.search(service_segment) else service_segment


def _literal(text: str, in_resource: bool) -> str:
    wildcard = ".*" if in_resource else "[^:]*"
    return wildcard.join(re.escape(part) for part in text.split("*"))


def _literal_length(text: str) -> int:
    return len(text) - text.count("*")


def _placeholder(name: str, in_resource: bool) -> str:
    if in_resource:
        return ".+"
    return "[^:]+" if name == "Partition" else "[^:]*"


def parse_arn_service(arn: str) -> str | None:
    """The service segment of a well-formed ARN (six colon-separated parts), else None."""
    parts = arn.split(":", _LEADING_SEGMENTS)
    if len(parts) <= _LEADING_SEGMENTS or parts[0] != "arn" or not parts[2]:
        return None
    return parts[2]


class ArnTypeIndex:
    """Every resource-type template of the catalogue, grouped by the service segment of the ARN.

    Templates are compiled per group on first use; ``classify`` is memoised per ARN.
    """

    def __init__(self, types: Iterable[tuple[TypeKey, str]]) -> None:
        """``types`` yields ``((service, type name), published ARN template field)``."""
        raw: defaultdict[str, list[tuple[TypeKey, str]]] = defaultdict(list)
        for key, field in types:
            for template in split_arn_templates(field):
                raw[_service_group(template)].append((key, template))
        self._raw = dict(raw)
        self._compiled: dict[str, tuple[CompiledTemplate, ...]] = {}
        self._interned: dict[frozenset[TypeKey], frozenset[TypeKey]] = {}
        self.classify = functools.lru_cache(maxsize=_CACHE_SIZE)(self._classify)

    def _group(self, arn_service: str) -> tuple[CompiledTemplate, ...]:
        compiled = self._compiled.get(arn_service)
        if compiled is None:
            compiled = tuple(compile_template(t, key=k) for k, t in self._raw.get(arn_service, ()))
            self._compiled[arn_service] = compiled
        return compiled

    def _classify(self, arn: str) -> frozenset[TypeKey]:
        """The resource types a concrete ARN is of: the matching templates with the most literal text."""
        arn_service = parse_arn_service(arn)
        if arn_service is None:
            return _NOTHING
        best = -1
        found: set[TypeKey] = set()
        for template in (*self._group(arn_service), *self._group(_ANY_SERVICE)):
            if template.specificity < best or not template.regex.match(arn):
                continue
            if template.specificity > best:
                best = template.specificity
                found = set()
            found.add(template.key)
        result = frozenset(found)
        return self._interned.setdefault(result, result)  # few distinct sets; callers key memos on them

    def type_of(self, arn: str) -> TypeKey | None:
        """One resource type for an ARN; among equally specific types prefer the ARN's own service."""
        keys = self.classify(arn)
        if not keys:
            return None
        arn_service = parse_arn_service(arn)
        return min(keys, key=lambda key: (key[0] != arn_service, key))
