"""Reading files once and walking their JSON with a location, so every error names file and element."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from iamgraph.errors import InputError, PolicyError
from iamgraph.model.policy import Policy, PolicyKind
from iamgraph.policy import parse_policy

__all__ = [
    "Loc",
    "array",
    "check_keys",
    "decode_document",
    "member",
    "opt_string",
    "parse_document",
    "read_json",
    "string",
]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Loc:
    """A place in an input: ``where`` is the file (relative to the snapshot), ``path`` the JSON path.

    Never mutated; the path text is only built when an error needs it (ingest creates one per element).
    """

    __slots__ = ("_key", "_parent", "where")

    def __init__(self, where: str, path: str = "", *, _parent: Loc | None = None, _key: str | int = "") -> None:
        self.where = where
        self._parent = _parent
        self._key: str | int = _key if _parent is not None else path

    def at(self, key: str | int) -> Loc:
        loc = _new(Loc)  # as __init__ does, without its keyword call (ingest makes one per element)
        loc.where, loc._parent, loc._key = self.where, self, key
        return loc

    @property
    def path(self) -> str:
        if self._parent is None:
            return str(self._key)
        base = self._parent.path
        key = self._key
        if isinstance(key, int):
            return f"{base}[{key}]"
        if not _IDENT.match(key):
            key = json.dumps(key)
        return f"{base}.{key}" if base else key

    def error(self, message: str) -> InputError:
        return InputError(message, where=self.where, element=self.path)

    # Typed accessors: each returns the value or raises naming this location.

    def obj(self, value: Any) -> Mapping[str, Any]:
        if type(value) is dict:
            return value
        if not isinstance(value, Mapping):
            raise self.error(f"must be a JSON object, not {_kind(value)}")
        return value

    def array(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(f"must be a JSON array, not {_kind(value)}")
        return value

    def string(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.error(f"must be a string, not {_kind(value)}")
        if not value:
            raise self.error("must not be empty")
        return value


def member(obj: Mapping[str, Any], key: str, loc: Loc) -> Any:
    """A required member of an object."""
    if key not in obj:
        raise loc.error(f'missing "{key}"')
    return obj[key]


def string(obj: Mapping[str, Any], key: str, loc: Loc) -> str:
    value = obj.get(key)
    if type(value) is str and value:
        return value  # the place is made only for an error (ingest reads millions of these)
    return loc.at(key).string(member(obj, key, loc))


def opt_string(obj: Mapping[str, Any], key: str, loc: Loc) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise loc.at(key).error(f"must be a string, not {_kind(value)}")
    return value


def array(obj: Mapping[str, Any], key: str, loc: Loc, *, required: bool = False) -> list[Any]:
    value = obj.get(key, _ABSENT)
    if type(value) is list:
        return value
    if value is _ABSENT and not required:
        return []
    return loc.at(key).array(member(obj, key, loc))


_ABSENT: Any = object()
_new = object.__new__


def check_keys(obj: Mapping[str, Any], loc: Loc, allowed: Collection[str]) -> None:
    """Our own formats are closed: an unknown key is an error, never silently dropped."""
    for key in obj:
        if key not in allowed:
            raise loc.at(key).error(f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", int: "a number", float: "a number", list: "an array"}.get(
        type(value), "an object" if isinstance(value, Mapping) else type(value).__name__
    )


def read_json(path: Path, where: str) -> Any:
    """Read and decode one JSON file, once, straight from bytes."""
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", where=where) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=where) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", where=where) from None


def decode_document(value: Any, loc: Loc) -> Mapping[str, Any]:
    """A policy document: a JSON object, JSON text, or URL-encoded JSON text (as the IAM API returns it)."""
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str):
        raise loc.error(f"a policy document must be a JSON object or string, not {_kind(value)}")
    text = value.strip()
    if not text.startswith("{"):
        text = unquote(text)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise loc.error(f"policy document is not valid JSON: {exc.msg} (column {exc.colno})") from None
    return loc.obj(doc)


def parse_document(value: Any, loc: Loc, *, name: str, kind: PolicyKind) -> Policy:
    """Decode and parse a policy document; a parse error names the file and the element inside it."""
    doc = decode_document(value, loc)
    try:
        return parse_policy(doc, name=name, kind=kind)
    except PolicyError as exc:
        element = f"{loc.path}.{exc.element}" if exc.element else loc.path
        raise InputError(f"{exc.reason} (policy {name})", where=loc.where, element=element) from None
