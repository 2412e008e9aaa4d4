"""Compiled matchers for Action/NotAction and Resource/NotResource elements.

Actions match case-insensitively with ``*`` and ``?``. Resource ARNs match case-sensitively; within the
five leading colon segments a ``*`` stays inside its segment unless it ends the segment, in the resource
part it runs across ``/`` and ``:`` (spec §2.2). Patterns are compiled once, per statement.

A request resource that itself contains wildcards is a *pattern request* ("some resource like this"):
an Allow matches when the two patterns overlap, a Deny only when it covers the whole request pattern.

A pattern with fewer than six ARN segments (``arn:aws:sqs``, ``arn:aws:sqs:*:111122223333``) is read as
written (spec errata 5); when the answer would change if AWS completed it with wildcard segments, the
element is *ambiguous* and the engine reports it undecidable instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from iamgraph.policy.variables import (
    NO_VALUE,
    Lookup,
    Resolved,
    Unresolved,
    parse_template,
    resolve,
    to_regex,
)

__all__ = [
    "ActionMatcher",
    "ResourceMatcher",
    "ResourceResult",
    "compile_arn_pattern",
    "is_pattern",
    "part_named",
    "pattern_covers",
    "patterns_overlap",
]


def _action_regex(pattern: str) -> str:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=65536)
def _actions_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation per Action element; shared by every statement with the same patterns."""
    alts = "|".join(_action_regex(p) for p in patterns) or "(?!)"
    return re.compile(f"(?:{alts})", re.IGNORECASE | re.DOTALL)


@dataclass(slots=True, eq=False)
class ActionMatcher:
    """Matches an action name against the patterns of one Action or NotAction element."""

    patterns: tuple[str, ...]
    negated: bool
    _regex: re.Pattern[str] = field(init=False)
    _cache: dict[str, bool] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._regex = _actions_regex(self.patterns)

    def matches(self, action: str) -> bool:
        hit = self._cache.get(action)
        if hit is None:
            hit = self._regex.fullmatch(action) is not None
            if len(self._cache) < 4096:
                self._cache[action] = hit
        return hit != self.negated


# ---- ARN globs -------------------------------------------------------------------------------

_ANY, _SEG, _ONE, _ONESEG = "any", "seg", "one", "oneseg"
Token = tuple[str, str]  # (kind, char); kind "lit" carries the char
_Compiled = tuple[re.Pattern[str], tuple[Token, ...]]
_LEADING_COLONS = 5  # arn:partition:service:region:account: -- the resource part follows


def _arn_tokens(parts: Resolved) -> list[Token]:
    """Tokenise a resolved ARN pattern, applying the segment rule to the five leading segments."""
    chars: list[tuple[str, bool]] = []  # (char, is_wildcard_capable)
    for p in parts:
        if isinstance(p, str):
            chars.extend((c, True) for c in p)
        else:
            chars.extend((c, False) for c in p.text)
    tokens: list[Token] = []
    colons = 0
    for i, (c, wild) in enumerate(chars):
        in_head = colons < 5
        if c == ":":
            colons += 1
        if wild and c == "*":
            if in_head:
                ends_segment = i + 1 == len(chars) or chars[i + 1][0] == ":"
                tokens.append((_ANY if ends_segment else _SEG, ""))
            else:
                tokens.append((_ANY, ""))
        elif wild and c == "?":
            tokens.append((_ONESEG if in_head else _ONE, ""))
        else:
            tokens.append(("lit", c))
    return tokens


_TOKEN_RE = {_ANY: ".*", _SEG: "[^:]*", _ONE: ".", _ONESEG: "[^:]"}


def _tokens_regex(tokens: list[Token]) -> re.Pattern[str]:
    src = "".join(_TOKEN_RE[k] if k != "lit" else re.escape(c) for k, c in tokens)
    return re.compile(src, re.DOTALL)


@lru_cache(maxsize=65536)
def _compile_static(pattern: str) -> tuple[re.Pattern[str], tuple[Token, ...]]:
    tokens = _arn_tokens((pattern,))
    return _tokens_regex(tokens), tuple(tokens)


def compile_arn_pattern(parts: Resolved) -> tuple[re.Pattern[str], tuple[Token, ...]]:
    if len(parts) == 1 and isinstance(parts[0], str):
        return _compile_static(parts[0])
    tokens = _arn_tokens(parts)
    return _tokens_regex(tokens), tuple(tokens)


def is_pattern(resource: str) -> bool:
    """A request resource with wildcards (other than the bare ``*`` pseudo-resource)."""
    return resource != "*" and ("*" in resource or "?" in resource)


def part_named(pattern: str, request: str) -> str | None:
    """The part of the pattern request ``request`` that the static Resource pattern ``pattern`` names:
    ``pattern`` itself when every resource it matches is inside the request, the whole request when the
    two only overlap (or ``pattern`` is ``*`` or a short ARN), None when they share no resource."""
    if pattern == MATCH_ALL or _is_short(pattern):
        return request
    req_tokens = _request_tokens(request)
    _, tokens = _compile_static(pattern)
    if pattern_covers(req_tokens, tokens):
        return pattern
    return request if patterns_overlap(tokens, req_tokens) else None


def _request_tokens(resource: str) -> tuple[Token, ...]:
    return tuple((_ANY, "") if c == "*" else (_ONE, "") if c == "?" else ("lit", c) for c in resource)


def _star(t: Token) -> bool:
    return t[0] in (_ANY, _SEG)


def _compatible(x: Token, y: Token) -> bool:
    """Is there one character both tokens accept?"""
    if x[0] == "lit" and y[0] == "lit":
        return x[1] == y[1]
    if x[0] == "lit":
        x, y = y, x
    if y[0] == "lit":
        return not (x[0] in (_SEG, _ONESEG) and y[1] == ":")
    return True


def patterns_overlap(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    """Do two glob patterns share at least one string?"""
    seen: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in seen:
            return seen[key]
        seen[key] = False
        res = False
        if (
            (i == len(a) and j == len(b))
            or (i < len(a) and _star(a[i]) and go(i + 1, j))
            or (j < len(b) and _star(b[j]) and go(i, j + 1))
        ):
            res = True
        elif i < len(a) and j < len(b):
            x, y = a[i], b[j]
            if not (_star(x) and _star(y)) and _compatible(x, y):
                res = go(i if _star(x) else i + 1, j if _star(y) else j + 1)
        seen[key] = res
        return res

    return go(0, 0)


def _covers(x: Token, y: Token) -> bool:
    kx, ky = x[0], y[0]
    if kx == _ANY:
        return True
    if kx == _SEG:
        return ky in (_SEG, _ONESEG) or (ky == "lit" and y[1] != ":")
    if kx == _ONE:
        return ky in (_ONE, _ONESEG, "lit")
    if kx == _ONESEG:
        return ky == _ONESEG or (ky == "lit" and y[1] != ":")
    return ky == "lit" and x[1] == y[1]


def pattern_covers(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    """Does pattern ``a`` match every string of pattern ``b``? (sound; may miss exotic covers)"""
    seen: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in seen:
            return seen[key]
        if i == len(a):
            res = j == len(b)
        elif _star(a[i]):
            res = go(i + 1, j) or (j < len(b) and _covers(a[i], b[j]) and go(i, j + 1))
        else:
            res = j < len(b) and not _star(b[j]) and _covers(a[i], b[j]) and go(i + 1, j + 1)
        seen[key] = res
        return res

    return go(0, 0)


# ---- Resource element ------------------------------------------------------------------------

MATCH_ALL: Final = "*"


@dataclass(frozen=True, slots=True)
class ResourceResult:
    """Outcome of a Resource element: matched, or open because a variable's key is unknown or because
    a short pattern (fewer than six segments) decides differently depending on how it is completed."""

    matched: bool
    unknown_keys: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    case_only: str | None = None  # a Deny pattern that matches only when letter case is ignored


_NO = ResourceResult(False)
_YES = ResourceResult(True)


@dataclass(slots=True, eq=False)
class ResourceMatcher:
    """Matches a request resource against one Resource or NotResource element."""

    patterns: tuple[str, ...]
    negated: bool
    variables: bool
    _static: list[tuple[re.Pattern[str], tuple[Token, ...]]] = field(init=False, default_factory=list)
    _static_patterns: list[str] = field(init=False, default_factory=list)
    _short: list[tuple[str, _Compiled, _Compiled]] = field(init=False, default_factory=list)
    _templated: list[tuple[str, tuple[object, ...]]] = field(init=False, default_factory=list)
    _all: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        for p in self.patterns:
            if p == MATCH_ALL:
                self._all = True
                continue
            if _is_short(p):
                self._short.append((p, _compile_static(p), _compile_static(_completed(p))))
                continue
            head, tail = _split_resource_part(p)
            template = parse_template(tail) if self.variables and "${" in tail else (tail,)
            if len(template) == 1 and isinstance(template[0], str):
                self._static.append(_compile_static(p))
                self._static_patterns.append(p)
            else:
                self._templated.append((head, template))

    def match(self, resource: str, lookup: Lookup, *, deny: bool) -> ResourceResult:
        """Does the element apply to ``resource``? (NotResource already inverted)"""
        hit, unknown, ambiguous = self._positive(resource, lookup, deny=deny)
        if (unknown or ambiguous) and not hit:
            return ResourceResult(False, tuple(unknown), tuple(ambiguous))
        if deny and not hit and not self.negated and not is_pattern(resource):
            case_only = self._case_insensitive_hit(resource)
            if case_only is not None:
                return ResourceResult(False, case_only=case_only)
        return _YES if hit != self.negated else _NO

    def _case_insensitive_hit(self, resource: str) -> str | None:
        """Errata 10: ARNs match case-sensitively (derived), but a Deny that differs from the request
        only by letter case must not be dropped silently; the caller reports it as undecidable."""
        for pattern, (regex, _) in zip(self._static_patterns, self._static, strict=True):
            if re.fullmatch(regex.pattern, resource, regex.flags | re.IGNORECASE):
                return pattern
        return None

    def _positive(self, resource: str, lookup: Lookup, *, deny: bool) -> tuple[bool, list[str], list[str]]:
        if self._all:
            return True, [], []
        pattern_request = is_pattern(resource)
        req_tokens = _request_tokens(resource) if pattern_request else ()
        # A NotResource matches when the request is *not* covered: flip the overlap/cover test.
        use_cover = deny != self.negated
        for regex, tokens in self._static:
            if self._one(resource, regex, tokens, req_tokens, pattern_request, use_cover):
                return True, [], []
        ambiguous: list[str] = []
        for pattern, (regex, tokens), (alt_regex, alt_tokens) in self._short:
            as_written = self._one(resource, regex, tokens, req_tokens, pattern_request, use_cover)
            completed = self._one(resource, alt_regex, alt_tokens, req_tokens, pattern_request, use_cover)
            if as_written and completed:
                return True, [], []
            if as_written != completed:
                ambiguous.append(pattern)
        unknown: list[str] = []
        for head, template in self._templated:
            resolved = resolve(template, lookup)  # type: ignore[arg-type]
            if resolved is NO_VALUE:
                continue  # a variable without value makes this entry match nothing
            if isinstance(resolved, Unresolved):
                unknown.append(resolved.key)
                continue
            assert isinstance(resolved, tuple)
            regex, tokens = compile_arn_pattern((head, *resolved))
            if self._one(resource, regex, tokens, req_tokens, pattern_request, use_cover):
                return True, [], []
        return False, unknown, ambiguous

    @staticmethod
    def _one(
        resource: str,
        regex: re.Pattern[str],
        tokens: tuple[Token, ...],
        req_tokens: tuple[Token, ...],
        pattern_request: bool,
        use_cover: bool,
    ) -> bool:
        if not pattern_request:
            return regex.fullmatch(resource) is not None
        if use_cover:
            return pattern_covers(tokens, req_tokens)
        return patterns_overlap(tokens, req_tokens)


def _is_short(pattern: str) -> bool:
    """An ARN pattern with fewer than six colon-separated segments."""
    return pattern.startswith("arn:") and pattern.count(":") < _LEADING_COLONS


def _completed(pattern: str) -> str:
    """The short pattern with its missing segments filled by wildcards (one reading AWS might apply)."""
    return pattern + ":*" * (_LEADING_COLONS - pattern.count(":"))


def _split_resource_part(pattern: str) -> tuple[str, str]:
    """Split after the fifth colon: variables are recognised only in the resource part."""
    idx = -1
    for _ in range(5):
        idx = pattern.find(":", idx + 1)
        if idx < 0:
            return pattern, ""
    return pattern[: idx + 1], pattern[idx + 1 :]


def glob_regex(parts: Resolved, *, ignore_case: bool = False) -> re.Pattern[str]:
    """Regex for a string glob (StringLike): ``*`` any run, ``?`` one character."""
    return re.compile(to_regex(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))
