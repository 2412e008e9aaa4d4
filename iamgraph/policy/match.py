"""Compiled matchers for Action/NotAction and Resource/NotResource elements.

Actions match case-insensitively with ``*`` and ``?``. Resource ARNs match case-sensitively; within the
five leading colon segments a ``*`` stays inside its segment unless it ends the segment, in the resource
part it runs across ``/`` and ``:`` (spec §2.2). Matchers prepare their patterns on first use, and only
patterns with inner wildcards become regexes (compiled once per pattern string, iamgraph.policy.memo):
literal patterns compare as strings, a final ``*`` as a prefix.

A request resource that itself contains wildcards is a *pattern request* ("some resource like this"):
an Allow matches when the two patterns overlap, a Deny only when it covers the whole request pattern.

A pattern with fewer than six ARN segments (``arn:aws:sqs``, ``arn:aws:sqs:*:111122223333``) is read as
written (spec errata 5); when the answer would change if AWS completed it with wildcard segments, the
element is *ambiguous* and the engine reports it undecidable instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from iamgraph.policy.memo import memo
from iamgraph.policy.variables import (
    NO_VALUE,
    Lookup,
    Resolved,
    Template,
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


_WILDCARD_RUN = re.compile(r"([*?])")  # split() keeps the wildcards: literal, wildcard, literal, ...


def _action_regex(pattern: str) -> str:
    pieces = _WILDCARD_RUN.split(pattern)
    return "".join(re.escape(x) if i % 2 == 0 else ".*" if x == "*" else "." for i, x in enumerate(pieces))


@memo()
def _actions_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation per Action element; shared by every statement with the same patterns."""
    alts = "|".join(_action_regex(p) for p in patterns) or "(?!)"
    return re.compile(f"(?:{alts})", re.IGNORECASE | re.DOTALL)


class _ActionIndex:
    """The patterns of one element, arranged for ASCII action names (case-insensitive equality is then
    plain lower-casing): ``*``; literal names; ``prefix*`` patterns, decided by ``startswith``; and the
    other wildcard patterns, whose regex runs only for names that start with the literal text before
    their first wildcard (``iam:`` for ``iam:*AccessKey*``)."""

    __slots__ = ("everything", "filters", "literal", "prefixes", "wildcards")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.everything = "*" in patterns
        literal: set[str] = set()
        prefixes: list[str] = []
        filters: list[str] = []
        wildcards: list[str] = []
        for p in patterns:
            if not p.isascii():  # may match ASCII names under Unicode case rules: always try its regex
                filters.append("")
                wildcards.append(p)
                continue
            pieces = _WILDCARD_RUN.split(p, maxsplit=1)
            if len(pieces) == 1:
                literal.add(p.lower())
            elif pieces[1] == "*" and len(pieces[2]) == 0:
                prefixes.append(pieces[0].lower())
            else:
                filters.append(pieces[0].lower())
                wildcards.append(p)
        self.literal = frozenset(literal)
        self.prefixes = tuple(prefixes)
        self.filters = tuple(filters)
        self.wildcards = tuple(wildcards)

    def match(self, action: str) -> bool:
        """``action`` must be ASCII."""
        if self.everything:
            return True
        lower = action.lower()
        if lower in self.literal or lower.startswith(self.prefixes):
            return True
        return (
            bool(self.filters)
            and lower.startswith(self.filters)
            and _actions_regex(self.wildcards).fullmatch(action) is not None
        )


@dataclass(slots=True, eq=False)
class ActionMatcher:
    """Matches an action name against the patterns of one Action or NotAction element.

    Nothing is prepared until the first ``matches``, and most patterns never need a regex: literal names
    compare lower-cased, ``prefix*`` patterns with ``startswith`` (``_ActionIndex``). Answers are kept
    per action name, so a matcher shared by many statements decides each action once.
    """

    patterns: tuple[str, ...]
    negated: bool
    _index: _ActionIndex | None = field(init=False, default=None)
    # The answer of ``matches`` per action name (NotAction already applied); hot loops may read it
    # directly before calling ``matches``.
    answers: dict[str, bool] = field(init=False, default_factory=dict, repr=False)

    def matches(self, action: str) -> bool:
        answer = self.answers.get(action)
        if answer is None:
            answer = self._match(action) != self.negated
            if len(self.answers) < 4096:
                self.answers[action] = answer
        return answer

    def _match(self, action: str) -> bool:
        if not action.isascii():  # Unicode case rules: the regex decides (re.IGNORECASE)
            return _actions_regex(self.patterns).fullmatch(action) is not None
        index = self._index
        if index is None:
            index = self._index = _ActionIndex(self.patterns)
        return index.match(action)


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


def _static_source(pattern: str) -> str:
    """Regex source of a static ARN pattern, the same text ``_tokens_regex(_arn_tokens(...))`` gives,
    built segment by segment instead of character by character."""
    segments = pattern.split(":", _LEADING_COLONS)
    out: list[str] = []
    for i, segment in enumerate(segments):
        if i:
            out.append(":")
        head = i < _LEADING_COLONS
        pieces = _WILDCARD_RUN.split(segment)  # literal, wildcard, literal, ..., literal
        last = len(pieces) - 1
        for j, piece in enumerate(pieces):
            if j % 2 == 0:
                out.append(re.escape(piece))
            elif piece == "?":
                out.append("[^:]" if head else ".")
            else:  # "*" stays inside one of the five leading segments unless it ends the segment
                ends_segment = j == last - 1 and not pieces[last]
                out.append("[^:]*" if head and not ends_segment else ".*")
    return "".join(out)


@memo()
def _static_regex(pattern: str) -> re.Pattern[str]:
    """The compiled regex of one static ARN pattern (shared by every statement that uses it)."""
    return re.compile(_static_source(pattern), re.DOTALL)


@memo()
def _compile_static(pattern: str) -> tuple[re.Pattern[str], tuple[Token, ...]]:
    """Regex and tokens (the tokens serve pattern requests: overlap and cover)."""
    return _static_regex(pattern), _static_tokens(pattern)


@memo()
def _static_tokens(pattern: str) -> tuple[Token, ...]:
    """The tokens of one static ARN pattern, for pattern requests, which never need its regex (a
    bucket's policy names its own objects: compiling each such pattern cost 0.5 s of a 50,000-principal
    build for nothing)."""
    return tuple(_arn_tokens((pattern,)))


@memo()
def _compile_parts(parts: Resolved) -> tuple[re.Pattern[str], tuple[Token, ...]]:
    tokens = _arn_tokens(parts)
    return _tokens_regex(tokens), tuple(tokens)


def compile_arn_pattern(parts: Resolved) -> tuple[re.Pattern[str], tuple[Token, ...]]:
    if len(parts) == 1 and isinstance(parts[0], str):
        return _compile_static(parts[0])
    return _compile_parts(parts)


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
    tokens = _static_tokens(pattern)
    if pattern_covers(req_tokens, tokens):
        return pattern
    return request if patterns_overlap(tokens, req_tokens) else None


@memo(4096)  # a pattern request (bucket/*) is matched against every statement that names its service
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


@memo()
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


@memo()
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


class _ResourcePlan:
    """The patterns of one Resource element sorted by how they are matched, built on first use.

    ``literal``: patterns without wildcards (string equality); ``prefixes``: patterns whose only
    wildcard is a final ``*`` (in the resource part it crosses everything: ``startswith``); ``regexes``:
    the other static patterns. ``static`` keeps every static pattern in element order (pattern requests
    and the case-only Deny check). ``short``: patterns of fewer than six segments, as written and as
    completed; ``templated``: patterns with policy variables in the resource part.
    """

    __slots__ = ("everything", "heads", "literal", "prefixes", "regexes", "short", "static", "templated")

    def __init__(self, patterns: tuple[str, ...], variables: bool) -> None:
        self.everything = False
        literal: set[str] = set()
        prefixes: list[str] = []
        regexes: list[re.Pattern[str]] = []
        static: list[str] = []
        short: list[tuple[str, _Compiled, _Compiled]] = []
        templated: list[tuple[str, Template]] = []
        for p in patterns:
            if p == MATCH_ALL:
                self.everything = True
            elif _is_short(p):
                short.append((p, _compile_static(p), _compile_static(_completed(p))))
            elif variables and "${" in p and "${" in (parts := _split_resource_part(p))[1]:
                head, tail = parts
                template = parse_template(tail)
                if len(template) == 1 and isinstance(template[0], str):  # "${" without a variable
                    static.append(p)
                    regexes.append(_static_regex(p))
                else:
                    templated.append((head, template))
            else:
                static.append(p)
                shape = _shape(p)
                if shape == "literal":
                    literal.add(p)
                elif shape == "prefix":
                    prefixes.append(p[:-1])
                else:
                    regexes.append(_static_regex(p))
        self.literal = frozenset(literal)
        self.prefixes = tuple(prefixes)
        self.regexes = tuple(regexes)
        self.static = tuple(static)
        self.heads = tuple(_head(p) for p in static)
        self.short = tuple(short)
        self.templated = tuple(templated)

    def static_hit(self, resource: str) -> bool:
        """Does a static pattern match the (non-pattern) request resource? Case-sensitive."""
        if resource in self.literal:
            return True
        if self.prefixes and resource.startswith(self.prefixes):
            return True
        return any(r.fullmatch(resource) is not None for r in self.regexes)


@dataclass(slots=True, eq=False)
class ResourceMatcher:
    """Matches a request resource against one Resource or NotResource element.

    Nothing is compiled at construction: many statements never get past their Action element. The
    first ``match`` sorts the patterns (``_ResourcePlan``); only patterns with wildcards inside get a
    regex, and those are shared by pattern string.
    """

    patterns: tuple[str, ...]
    negated: bool
    variables: bool
    _plan: _ResourcePlan | None = field(init=False, default=None)

    def _get_plan(self) -> _ResourcePlan:
        plan = self._plan
        if plan is None:
            plan = self._plan = _ResourcePlan(self.patterns, self.variables)
        return plan

    def match(self, resource: str, lookup: Lookup, *, deny: bool) -> ResourceResult:
        """Does the element apply to ``resource``? (NotResource already inverted)"""
        plan = self._get_plan()
        pattern_request = is_pattern(resource)
        if plan.everything or (not pattern_request and plan.static_hit(resource)):
            return _NO if self.negated else _YES
        hit, unknown, ambiguous = self._positive(plan, resource, lookup, deny=deny, pattern_request=pattern_request)
        if (unknown or ambiguous) and not hit:
            return ResourceResult(False, tuple(unknown), tuple(ambiguous))
        if deny and not hit and not self.negated and not pattern_request:
            case_only = _case_insensitive_hit(plan, resource)
            if case_only is not None:
                return ResourceResult(False, case_only=case_only)
        return _YES if hit != self.negated else _NO

    def _positive(
        self, plan: _ResourcePlan, resource: str, lookup: Lookup, *, deny: bool, pattern_request: bool
    ) -> tuple[bool, list[str], list[str]]:
        """The element without ``*`` and, for a plain request, without its static patterns (already tried)."""
        req_tokens = _request_tokens(resource) if pattern_request else ()
        # A NotResource matches when the request is *not* covered: flip the overlap/cover test.
        use_cover = deny != self.negated
        if pattern_request:
            mine = _head(resource)
            for pattern, head in zip(plan.static, plan.heads, strict=True):
                if not (mine.startswith(head) or head.startswith(mine)):
                    continue  # no string starts with both literal heads: neither overlap nor cover
                tokens = _static_tokens(pattern)
                if pattern_covers(tokens, req_tokens) if use_cover else patterns_overlap(tokens, req_tokens):
                    return True, [], []  # as _one decides a pattern request
        ambiguous: list[str] = []
        for pattern, (regex, tokens), (alt_regex, alt_tokens) in plan.short:
            as_written = self._one(resource, regex, tokens, req_tokens, pattern_request, use_cover)
            completed = self._one(resource, alt_regex, alt_tokens, req_tokens, pattern_request, use_cover)
            if as_written and completed:
                return True, [], []
            if as_written != completed:
                ambiguous.append(pattern)
        unknown: list[str] = []
        for head, template in plan.templated:
            resolved = resolve(template, lookup)
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


def _head(pattern: str) -> str:
    """The literal start of a pattern, up to its first wildcard (or ``$``, which may open an escape): every
    string it matches starts with it, letter case included."""
    cut = len(pattern)
    for c in "*?$":
        i = pattern.find(c)
        if 0 <= i < cut:
            cut = i
    return pattern[:cut]


def _case_insensitive_hit(plan: _ResourcePlan, resource: str) -> str | None:
    """Errata 10: ARNs match case-sensitively (derived), but a Deny that differs from the request only by
    letter case must not be dropped silently; the caller reports it as undecidable. The first static
    pattern (element order) that matches ignoring case, or None."""
    lowered = resource.lower() if resource.isascii() else None
    for pattern in plan.static:
        shape = _shape(pattern)
        if lowered is None or shape == "glob" or not pattern.isascii():  # Unicode case rules: the regex
            hit = _static_regex_ignore_case(pattern).fullmatch(resource) is not None
        elif shape == "literal":  # ASCII: ignoring case is lower-casing both sides
            hit = lowered == pattern.lower()
        else:
            hit = lowered.startswith(pattern[:-1].lower())
        if hit:
            return pattern
    return None


def _shape(pattern: str) -> str:
    """``literal`` (no wildcard), ``prefix`` (only a final ``*``) or ``glob``."""
    if "*" not in pattern and "?" not in pattern:
        return "literal"
    if pattern.endswith("*") and "*" not in pattern[:-1] and "?" not in pattern:
        return "prefix"
    return "glob"


@memo()
def _static_regex_ignore_case(pattern: str) -> re.Pattern[str]:
    return re.compile(_static_source(pattern), re.DOTALL | re.IGNORECASE)


def _is_short(pattern: str) -> bool:
    """An ARN pattern with fewer than six colon-separated segments."""
    return pattern.startswith("arn:") and pattern.count(":") < _LEADING_COLONS


def _completed(pattern: str) -> str:
    """The short pattern with its missing segments filled by wildcards (one reading AWS might apply)."""
    return pattern + ":*" * (_LEADING_COLONS - pattern.count(":"))


def _split_resource_part(pattern: str) -> tuple[str, str]:
    """Split after the fifth colon: variables are recognised only in the resource part."""
    parts = pattern.split(":", _LEADING_COLONS)
    if len(parts) <= _LEADING_COLONS:
        return pattern, ""
    tail = parts[_LEADING_COLONS]
    return pattern[: len(pattern) - len(tail)], tail


def glob_regex(parts: Resolved, *, ignore_case: bool = False) -> re.Pattern[str]:
    """Regex for a string glob (StringLike): ``*`` any run, ``?`` one character."""
    return re.compile(to_regex(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))
