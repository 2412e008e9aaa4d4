"""The fast paths of the matchers agree with the plain regex reading of the patterns.

Action and Resource matchers compile nothing until first used and then compare literal patterns as
strings (actions: lower-cased, ASCII only; ARNs: case-sensitive), test a trailing-``*`` ARN pattern with
``startswith`` and keep regexes for the rest. Each test compares them with a reference built the old
way: one regex per pattern from the character tokeniser (``_arn_tokens``), ``re.IGNORECASE`` for actions
and for the case-only Deny check.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamgraph.errors import PolicyError
from iamgraph.evaluation.context import Context
from iamgraph.model.policy import PolicyKind
from iamgraph.policy.match import (
    ActionMatcher,
    ResourceMatcher,
    _arn_tokens,
    _static_source,
    _tokens_regex,
)
from iamgraph.policy.parse import parse_policy

from .helpers import V2008, policy

# Letters whose Unicode case rules differ from ASCII lower-casing: the long s and the Kelvin sign match
# "s"/"k" under re.IGNORECASE, "ß" and dotted "İ" lower-case to other lengths.
_ODD = "ſKßİ"


def _reference_action(patterns: tuple[str, ...], name: str) -> bool:
    alts = "|".join("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p) for p in patterns)
    return bool(patterns) and re.fullmatch(f"(?:{alts})", name, re.IGNORECASE | re.DOTALL) is not None


def _reference_resource(patterns: tuple[str, ...], resource: str) -> bool:
    return any(p == "*" or _tokens_regex(_arn_tokens((p,))).fullmatch(resource) for p in patterns)


def _lookup(_key: str) -> None:
    return None


class TestActionFastPaths:
    @pytest.mark.parametrize(
        ("patterns", "name", "expected"),
        [
            (("s3:GetObject",), "S3:GETOBJECT", True),  # literal: case-insensitive
            (("s3:GetObject",), "s3:GetObjects", False),
            (("s3:GetObject", "sqs:SendMessage"), "sqs:sendmessage", True),
            (("s3:Get*",), "s3:getobject", True),  # wildcard behind its literal prefix "s3:get"
            (("s3:Get*",), "s3:PutObject", False),  # prefix filter: the regex is never needed
            (("*Object",), "s3:GetObject", True),  # empty prefix: always the regex
            (("s3:Get?bject",), "s3:GetXbject", True),
            (("s3:GetObject",), "ſ3:GetObject", True),  # non-ASCII name: Unicode case rules (re)
            (("s3:ſ*",), "s3:Select", True),  # non-ASCII pattern: always tried by regex
            (("kms:Decrypt",), "\u212ams:Decrypt", True),  # Kelvin sign
            ((), "s3:GetObject", False),
        ],
    )
    def test_cases(self, patterns: tuple[str, ...], name: str, expected: bool) -> None:
        assert ActionMatcher(patterns, False).matches(name) is expected
        assert ActionMatcher(patterns, True).matches(name) is (not expected)
        assert _reference_action(patterns, name) is expected

    @settings(max_examples=400, deadline=None)
    @given(
        patterns=st.lists(st.text(alphabet="aAbB:*?" + _ODD, max_size=5), max_size=3),
        name=st.text(alphabet="aAbB:" + _ODD, max_size=5),
    )
    def test_agrees_with_the_regex(self, patterns: list[str], name: str) -> None:
        assert ActionMatcher(tuple(patterns), False).matches(name) is _reference_action(tuple(patterns), name)

    def test_nothing_compiled_before_first_use(self) -> None:
        m = ActionMatcher(("s3:Get*", "s3:PutObject"), False)
        assert m._index is None
        assert m.matches("s3:PutObject") and m._index is not None

    def test_answers_are_kept_per_name(self) -> None:
        m = ActionMatcher(("s3:*",), True)
        assert not m.matches("s3:GetObject") and not m.matches("s3:GetObject")
        assert m.matches("ec2:RunInstances")
        assert m.answers == {"s3:GetObject": False, "ec2:RunInstances": True}  # NotAction applied


class TestResourceFastPaths:
    @pytest.mark.parametrize(
        ("pattern", "resource", "expected"),
        [
            ("arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket/key", True),  # literal
            ("arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket/Key", False),  # case-sensitive
            ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", False),
            ("arn:aws:S3:::b", "arn:aws:s3:::b", False),  # the leading segments too
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", True),  # prefix: * crosses / and :
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/", True),
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
            ("arn:aws:s3:::bucket/*", "*", False),
            ("arn:aws:ec2:*:111122223333:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", True),
            ("arn:aws:ec2:us-*-1:111122223333:instance/i", "arn:aws:ec2:us-east:x-1:111122223333:instance/i", False),
            ("arn:aws:iam::111122223333:user/*/admin", "arn:aws:iam::111122223333:user/a/b/admin", True),
            ("arn:aws:s3:::b.c", "arn:aws:s3:::bxc", False),  # metacharacters stay literal
        ],
    )
    def test_cases(self, pattern: str, resource: str, expected: bool) -> None:
        assert ResourceMatcher((pattern,), False, True).match(resource, _lookup, deny=False).matched is expected
        assert _reference_resource((pattern,), resource) is expected

    @settings(max_examples=400, deadline=None)
    @given(
        patterns=st.lists(st.text(alphabet="aA:/*?", max_size=9), min_size=1, max_size=3),
        resource=st.text(alphabet="aA:/", max_size=9),
    )
    def test_agrees_with_the_tokeniser_regex(self, patterns: list[str], resource: str) -> None:
        # "arn:"-less patterns are never short, so every one of them takes a static path
        result = ResourceMatcher(tuple(patterns), False, False).match(resource, _lookup, deny=False)
        assert result.matched is _reference_resource(tuple(patterns), resource)

    @settings(max_examples=300, deadline=None)
    @given(pattern=st.text(alphabet="ab:/.$*?" + _ODD, max_size=12))
    def test_static_source_is_the_tokeniser_source(self, pattern: str) -> None:
        assert _static_source(pattern) == _tokens_regex(_arn_tokens((pattern,))).pattern

    def test_nothing_compiled_before_first_use(self) -> None:
        p = policy({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:q-*"})
        m = p.statements[0].resource_matcher
        assert m is not None and m._plan is None

    def test_variable_pattern_resolves_per_request(self) -> None:
        m = ResourceMatcher(("arn:aws:s3:::b/${aws:username}/*",), False, True)
        ctx = Context.build({"aws:username": "alice"})
        assert m.match("arn:aws:s3:::b/alice/k", ctx.lookup, deny=False).matched
        assert not m.match("arn:aws:s3:::b/bob/k", ctx.lookup, deny=False).matched
        # Version 2008: the same text is a literal pattern
        literal = ResourceMatcher(("arn:aws:s3:::b/${aws:username}/k",), False, False)
        assert literal.match("arn:aws:s3:::b/${aws:username}/k", ctx.lookup, deny=False).matched

    def test_unclosed_variable_is_static_text(self) -> None:
        m = ResourceMatcher(("arn:aws:s3:::b/${x*",), False, True)
        assert m.match("arn:aws:s3:::b/${xyz", _lookup, deny=False).matched


class TestCaseOnlyDeny:
    """Errata 10: a Deny that misses only because of letter case is reported (``case_only``)."""

    @pytest.mark.parametrize(
        ("pattern", "resource", "reported"),
        [
            ("arn:aws:s3:::Bucket/key", "arn:aws:s3:::bucket/key", True),  # literal, ASCII
            ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", True),  # prefix, ASCII
            ("arn:aws:s3:::B?cket/*", "arn:aws:s3:::bucket/x", True),  # glob: regex
            ("arn:aws:s3:::other/*", "arn:aws:s3:::bucket/x", False),
            ("arn:aws:s3:::\u212a", "arn:aws:s3:::k", True),  # non-ASCII pattern: Unicode rules
            ("arn:aws:s3:::s", "arn:aws:s3:::ſ", True),  # non-ASCII resource: Unicode rules
            ("arn:aws:s3:::ß", "arn:aws:s3:::ss", False),  # no one-to-many folding
        ],
    )
    def test_cases(self, pattern: str, resource: str, reported: bool) -> None:
        r = ResourceMatcher((pattern,), False, True).match(resource, _lookup, deny=True)
        assert not r.matched
        assert (r.case_only == pattern) is reported
        reference = re.fullmatch(_static_source(pattern), resource, re.DOTALL | re.IGNORECASE) is not None
        assert reference is reported

    def test_first_pattern_in_element_order(self) -> None:
        pats = ("arn:aws:s3:::X/*", "arn:aws:s3:::x/K", "arn:aws:s3:::X/k")
        r = ResourceMatcher(pats, False, True).match("arn:aws:s3:::x/k", _lookup, deny=True)
        assert r.case_only == "arn:aws:s3:::X/*"

    def test_allow_is_never_case_only(self) -> None:
        r = ResourceMatcher(("arn:aws:s3:::Bucket/key",), False, True).match(
            "arn:aws:s3:::bucket/key", _lookup, deny=False
        )
        assert not r.matched and r.case_only is None


class TestValidationStaysAtParseTime:
    """Lazy matchers must not defer any error: a statement is fully checked even if it never matches."""

    @pytest.mark.parametrize(
        ("statement", "element"),
        [
            ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": 5}, "Statement[0].Resource"),
            ({"Effect": "Allow", "Action": ["s3:GetObject", 1], "Resource": "*"}, "Statement[0].Action"),
            ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": []}, "Statement[0].Resource"),
            ({"Effect": "Allow", "NotAction": [], "Resource": "*"}, "Statement[0].NotAction"),
        ],
    )
    def test_bad_elements_raise(self, statement: dict[str, object], element: str) -> None:
        with pytest.raises(PolicyError) as exc:
            parse_policy({"Version": V2008, "Statement": statement}, name="P", kind=PolicyKind.IDENTITY)
        assert exc.value.element == element


class TestPatternRequestHeads:
    """A pattern request (``bucket/*``, "some object of the bucket") skips every static pattern whose
    literal head is incompatible with the request's: the answers are those of trying every pattern."""

    _ARN = st.text(alphabet="aAbB/*?$:", max_size=6)

    @settings(max_examples=400, deadline=None)
    @given(
        tails=st.lists(_ARN, min_size=1, max_size=4),
        request_tail=_ARN,
        negated=st.booleans(),
        deny=st.booleans(),
    )
    def test_same_answers_as_trying_every_pattern(
        self, tails: list[str], request_tail: str, negated: bool, deny: bool
    ) -> None:
        from iamgraph.policy import match as match_module

        patterns = tuple(f"arn:aws:s3:::b{t}" for t in tails)
        resource = f"arn:aws:s3:::b{request_tail}*"  # a pattern request
        fast = ResourceMatcher(patterns, negated, False).match(resource, _lookup, deny=deny)
        head = match_module._head
        match_module._head = lambda _pattern: ""  # every head compatible: every pattern is tried
        try:
            slow = ResourceMatcher(patterns, negated, False).match(resource, _lookup, deny=deny)
        finally:
            match_module._head = head
        assert fast == slow

    def test_heads(self) -> None:
        from iamgraph.policy.match import _head

        assert _head("arn:aws:s3:::bucket/*") == "arn:aws:s3:::bucket/"
        assert _head("arn:aws:s3:::b?cket") == "arn:aws:s3:::b"
        assert _head("arn:aws:s3:::a${*}") == "arn:aws:s3:::a"
        assert _head("arn:aws:s3:::literal") == "arn:aws:s3:::literal"
