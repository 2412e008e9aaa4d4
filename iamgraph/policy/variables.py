"""Policy variables: ``${key}``, ``${key, 'default'}`` and the escapes ``${*}``, ``${?}``, ``${$}``.

A value is parsed once into a template of raw text (wildcards active for *Like operators), literal
text (escapes and substituted values: never wildcards) and variables. Resolution against a context
lookup gives the resolved parts, ``NO_VALUE`` (a variable without value or default) or an
:class:`Unresolved` naming a key whose value is not known statically.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

from iamgraph.policy.memo import memo

__all__ = [
    "NO_VALUE",
    "UNKNOWN",
    "Lit",
    "Lookup",
    "Resolved",
    "Template",
    "Unresolved",
    "Var",
    "parse_template",
    "resolve",
    "resolved_text",
    "to_regex",
]


@dataclass(frozen=True, slots=True)
class Lit:
    """Literal text: ``*`` and ``?`` inside it never act as wildcards."""

    text: str


@dataclass(frozen=True, slots=True)
class Var:
    key: str  # lower-case key name
    default: str | None


@dataclass(frozen=True, slots=True)
class Unresolved:
    key: str


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NO_VALUE: Final = _Marker("NO_VALUE")
UNKNOWN: Final = _Marker("UNKNOWN")

Template: TypeAlias = tuple[str | Lit | Var, ...]
Resolved: TypeAlias = tuple[str | Lit, ...]
# A lookup returns the key's single value, None when absent, UNKNOWN, or a tuple for multivalued keys.
Lookup: TypeAlias = Callable[[str], "str | tuple[str, ...] | _Marker | None"]

_VAR = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'(.*)'\s*$", re.S)
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@memo(maxsize=65536)
def parse_template(text: str) -> Template:
    """Split ``text`` into raw text, escapes and variables (only call for Version 2012-10-17)."""
    parts: list[str | Lit | Var] = []
    pos = 0
    for m in _VAR.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        body = m.group(1)
        if body in _ESCAPES:
            parts.append(Lit(_ESCAPES[body]))
        else:
            d = _DEFAULT.match(body)
            if d:
                parts.append(Var(d.group(1).strip().lower(), d.group(2)))
            else:
                parts.append(Var(body.strip().lower(), None))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def has_variables(template: Template) -> bool:
    return any(not isinstance(p, str) for p in template)


def resolve(template: Template, lookup: Lookup) -> Resolved | Unresolved | _Marker:
    """Substitute variables; substituted values are literal text (spec G4)."""
    out: list[str | Lit] = []
    for part in template:
        if isinstance(part, Var):
            value = lookup(part.key)
            if value is UNKNOWN:
                return Unresolved(part.key)
            if value is None or isinstance(value, tuple):
                # absent, or multivalued (not usable as a variable): the default or no value
                if part.default is None:
                    return NO_VALUE
                out.append(Lit(part.default))
            else:
                assert isinstance(value, str)
                out.append(Lit(value))
        else:
            out.append(part)
    return tuple(out)


def resolved_text(parts: Resolved) -> str:
    return "".join(p.text if isinstance(p, Lit) else p for p in parts)


def to_regex(parts: Resolved, star: str = ".*", qmark: str = ".") -> str:
    """Regex source for a glob: raw ``*``/``?`` become wildcards, everything else is escaped."""
    out: list[str] = []
    for p in parts:
        if isinstance(p, Lit):
            out.append(re.escape(p.text))
            continue
        for ch in p:
            if ch == "*":
                out.append(star)
            elif ch == "?":
                out.append(qmark)
            else:
                out.append(re.escape(ch))
    return "".join(out)
