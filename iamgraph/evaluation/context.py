"""Request context: case-insensitive keys, single or multivalued, with declared unknown keys.

``lookup(key)`` returns the value (a string, or a tuple for a multivalued key), ``None`` when the key
is absent, or ``UNKNOWN`` when the key is declared unknown (partial evaluation). Keys matching a
``known`` pattern are definitive: absent means absent even when every other key is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from iamgraph.model._fast import fast_constructor
from iamgraph.policy.variables import UNKNOWN, _Marker

__all__ = ["UNKNOWN", "Context", "KeyPatterns"]


@dataclass(frozen=True, slots=True)
class KeyPatterns:
    """Key names (lower case) and prefixes (``aws:requesttag/*``); ``everything`` for ``"*"``."""

    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    everything: bool = False

    @classmethod
    def of(cls, patterns: Iterable[str] | str | None) -> KeyPatterns:
        if patterns is None:
            return _NO_PATTERNS if cls is KeyPatterns else cls()
        if isinstance(patterns, str):
            patterns = [patterns]
        names: set[str] = set()
        prefixes: list[str] = []
        everything = False
        for p in patterns:
            p = p.strip().lower()
            if p == "*":
                everything = True
            elif p.endswith("*"):
                prefixes.append(p[:-1])
            else:
                names.add(p)
        return cls(frozenset(names), tuple(prefixes), everything)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return self.everything or key in self.names or key.startswith(self.prefixes)

    def __bool__(self) -> bool:
        return self.everything or bool(self.names) or bool(self.prefixes)


_NO_PATTERNS = KeyPatterns()  # immutable: one instance serves every context without declared keys

Value = str | tuple[str, ...]


def _normalise(value: object) -> Value:
    if type(value) is str:
        return value
    if value is None:
        return ""  # present with a null value: the Null operator treats it as null (§3.6)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Sequence):
        return tuple(v if isinstance(v, str) else str(_normalise(v)) for v in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Context:
    values: Mapping[str, Value] = field(default_factory=dict)
    unknown: KeyPatterns = field(default_factory=KeyPatterns)
    known: KeyPatterns = field(default_factory=KeyPatterns)

    @classmethod
    def build(
        cls,
        values: Mapping[str, object] | None = None,
        *,
        unknown: Iterable[str] | str | None = None,
        known: Iterable[str] | str | None = None,
    ) -> Context:
        norm = {k.lower(): _normalise(v) for k, v in values.items()} if values else {}
        if cls is not Context:
            return cls(norm, KeyPatterns.of(unknown), KeyPatterns.of(known))
        return _new_context(norm, KeyPatterns.of(unknown), KeyPatterns.of(known))

    @classmethod
    def extended(
        cls, base: Mapping[str, Value], extra: Mapping[str, object], *, unknown: KeyPatterns, known: KeyPatterns
    ) -> Context:
        """``Context.build({**raw, **extra}, ...)`` where ``base`` is ``Context.build(raw).values``, made
        once: the keys of ``extra`` (lower-cased, values normalised) over a copy of ``base``. For requests
        that add a few resource keys to a principal's many keys (every evaluation of a graph build)."""
        merged = dict(base)
        for k, v in extra.items():
            merged[k.lower()] = v if type(v) is str else _normalise(v)
        return _new_context(merged, unknown, known)

    def lookup(self, key: str) -> Value | _Marker | None:
        """``key`` must already be lower case."""
        v = self.values.get(key)
        if v is not None:
            return v
        if self.unknown and key in self.unknown and key not in self.known:
            return UNKNOWN
        return None

    @classmethod
    def build_with_defaults(
        cls, values: Mapping[str, object], defaults: Mapping[str, object], *, unknown: Iterable[str] | str | None = None
    ) -> Context:
        """``Context.build(values, unknown=unknown).with_values(defaults)`` in one step (request building)."""
        merged = {k.lower(): _normalise(v) for k, v in values.items()} if values else {}
        for k, v in defaults.items():
            key = k.lower()
            if key not in merged:
                merged[key] = v if type(v) is str else _normalise(v)
        return _new_context(merged, KeyPatterns.of(unknown), _NO_PATTERNS)

    def with_values(self, extra: Mapping[str, object], *, overwrite: bool = False) -> Context:
        merged = dict(self.values)
        for k, v in extra.items():
            key = k.lower()
            if overwrite or key not in merged:
                merged[key] = v if type(v) is str else _normalise(v)
        return _new_context(merged, self.unknown, self.known)

    @property
    def partial(self) -> bool:
        return bool(self.unknown)


_new_context = fast_constructor(Context)
