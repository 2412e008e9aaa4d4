"""Policy variables (spec §4, T35–T41, errata T37a and T39)."""

from __future__ import annotations

import pytest

from iamgraph.evaluation.context import Context
from iamgraph.model.policy import Effect
from iamgraph.policy.match import ResourceMatcher
from iamgraph.policy.variables import (
    NO_VALUE,
    UNKNOWN,
    Lit,
    Unresolved,
    Var,
    parse_template,
    resolve,
    resolved_text,
    to_regex,
)

from .helpers import V2008, V2012, is_open, one, policy


def lookup_of(values: dict[str, object], unknown: list[str] | None = None):  # type: ignore[no-untyped-def]
    return Context.build(values, unknown=unknown).lookup


class TestTemplates:
    def test_plain_text(self) -> None:
        assert parse_template("abc") == ("abc",)

    def test_variable_name_lower_cased(self) -> None:
        assert parse_template("x/${aws:UserName}/y") == ("x/", Var("aws:username", None), "/y")

    def test_default(self) -> None:
        assert parse_template("bkt-${aws:PrincipalTag/team, 'company-wide'}") == (
            "bkt-",
            Var("aws:principaltag/team", "company-wide"),
        )

    def test_default_may_be_empty_or_contain_spaces(self) -> None:
        assert parse_template("${aws:username, ''}") == (Var("aws:username", ""),)
        assert parse_template("${aws:username, 'a b'}") == (Var("aws:username", "a b"),)

    @pytest.mark.parametrize(("escape", "char"), [("${*}", "*"), ("${?}", "?"), ("${$}", "$")])
    def test_escapes_are_literals(self, escape: str, char: str) -> None:
        assert parse_template(f"a{escape}b") == ("a", Lit(char), "b")

    def test_resolve(self) -> None:
        t = parse_template("home/${aws:username}/*")
        r = resolve(t, lookup_of({"aws:username": "alice"}))
        assert r == ("home/", Lit("alice"), "/*")
        assert resolved_text(r) == "home/alice/*"  # type: ignore[arg-type]

    def test_resolve_absent_without_default_is_no_value(self) -> None:
        assert resolve(parse_template("${aws:username}"), lookup_of({})) is NO_VALUE

    def test_resolve_absent_with_default(self) -> None:
        r = resolve(parse_template("${aws:username, 'nobody'}"), lookup_of({}))
        assert r == (Lit("nobody"),)

    def test_resolve_unknown(self) -> None:
        r = resolve(parse_template("${aws:username}"), lookup_of({}, unknown=["aws:username"]))
        assert r == Unresolved("aws:username")

    def test_multivalued_key_has_no_value(self) -> None:
        # errata 9: a multivalued key is not usable as a variable -> no value (or the default)
        assert resolve(parse_template("${aws:TagKeys}"), lookup_of({"aws:TagKeys": ["a"]})) is NO_VALUE
        r = resolve(parse_template("${aws:TagKeys, 'd'}"), lookup_of({"aws:TagKeys": ["a"]}))
        assert r == (Lit("d"),)

    def test_to_regex_literals_are_escaped(self) -> None:
        assert to_regex(("a*", Lit("*?"))) == "a.*\\*\\?"

    def test_unknown_marker_distinct(self) -> None:
        assert UNKNOWN is not NO_VALUE


class TestConditions:
    K = "s3:ExistingObjectTag/Team"
    V = "${aws:PrincipalTag/Team}"

    def test_substitution(self) -> None:
        ctx = {self.K: "red", "aws:PrincipalTag/Team": "red"}
        assert one("StringEquals", self.K, self.V, ctx) is True
        assert one("StringNotEquals", self.K, self.V, ctx) is False
        ctx["aws:PrincipalTag/Team"] = "blue"
        assert one("StringEquals", self.K, self.V, ctx) is False

    def test_variable_name_case_insensitive(self) -> None:
        ctx = {self.K: "red", "aws:principaltag/team": "red"}
        assert one("StringEquals", self.K, "${AWS:PRINCIPALTAG/TEAM}", ctx) is True

    def test_no_value_positive_operator_does_not_match(self) -> None:
        assert one("StringEquals", self.K, self.V, {self.K: "red"}) is False
        assert one("StringLike", self.K, self.V, {self.K: "red"}) is False
        assert (
            one("ArnLike", "aws:SourceArn", "arn:aws:s3:::${aws:username}", {"aws:SourceArn": "arn:aws:s3:::x"})
            is False
        )

    def test_no_value_negated_operator_matches(self) -> None:
        # T37a (errata): inverted operators match a null value
        assert one("StringNotEquals", self.K, self.V, {self.K: "red"}) is True
        assert one("StringNotLike", self.K, self.V, {self.K: "red"}) is True
        assert one("ArnNotLike", "aws:SourceArn", "arn:aws:s3:::${aws:username}", {"aws:SourceArn": "arn:aws:s3:::x"})

    def test_no_value_among_other_values(self) -> None:
        assert one("StringEquals", self.K, [self.V, "red"], {self.K: "red"}) is True
        assert one("StringNotEquals", self.K, [self.V, "red"], {self.K: "red"}) is False
        assert one("StringNotEquals", self.K, [self.V, "red"], {self.K: "blue"}) is True

    def test_default_value_in_condition(self) -> None:
        assert one("StringEquals", self.K, "${aws:PrincipalTag/Team, 'none'}", {self.K: "none"}) is True

    def test_escapes_in_like(self) -> None:
        # T38
        k = "aws:PrincipalTag/p"
        assert one("StringLike", k, "a${*}b", {k: "a*b"}) is True
        assert one("StringLike", k, "a${*}b", {k: "axb"}) is False
        assert one("StringLike", k, "a*b", {k: "axb"}) is True
        assert one("StringLike", k, "a${?}b", {k: "a?b"}) is True
        assert one("StringLike", k, "a${?}b", {k: "axb"}) is False
        assert one("StringEquals", k, "cost${$}", {k: "cost$"}) is True

    def test_substituted_wildcards_are_literal(self) -> None:
        # G4: wildcards arriving through a substituted value are literals
        ctx = {"aws:PrincipalTag/prefix": "a*", "aws:PrincipalTag/p": "abc"}
        assert one("StringLike", "aws:PrincipalTag/p", "${aws:PrincipalTag/prefix}", ctx) is False
        ctx["aws:PrincipalTag/p"] = "a*"
        assert one("StringLike", "aws:PrincipalTag/p", "${aws:PrincipalTag/prefix}", ctx) is True

    def test_substitution_inside_a_glob(self) -> None:
        # T40: sts:RoleSessionName bound to the user name
        assert one(
            "StringLike",
            "sts:RoleSessionName",
            "${aws:username}",
            {"sts:RoleSessionName": "alice", "aws:username": "alice"},
        )
        assert (
            one(
                "StringLike",
                "sts:RoleSessionName",
                "${aws:username}",
                {"sts:RoleSessionName": "bob", "aws:username": "alice"},
            )
            is False
        )
        assert one("StringLike", "sts:RoleSessionName", "${aws:username}", {"sts:RoleSessionName": "bob"}) is False
        k = "s3:prefix"
        assert one("StringLike", k, "home/${aws:username}/*", {k: "home/alice/docs", "aws:username": "alice"}) is True

    def test_version_2008_is_literal(self) -> None:
        k = "s3:prefix"
        ctx = {k: "home/alice", "aws:username": "alice"}
        assert one("StringEquals", k, "home/${aws:username}", ctx, version=V2008) is False
        assert one("StringEquals", k, "home/${aws:username}", {k: "home/${aws:username}"}, version=V2008) is True
        assert one("StringEquals", k, "home/${aws:username}", {k: "home/${aws:username}"}, version=None) is True

    def test_version_2008_negated_with_missing_variable_key(self) -> None:
        # literal text: StringNotEquals compares against "${aws:username}" itself
        k = "s3:prefix"
        assert one("StringNotEquals", k, "${aws:username}", {k: "${aws:username}"}, version=V2008) is False

    def test_unknown_variable_key_gives_open_atom(self) -> None:
        r = one("StringEquals", self.K, self.V, {self.K: "red"}, unknown=["aws:PrincipalTag/*"])
        assert is_open(r)
        assert "aws:principaltag/team" in r.reason  # type: ignore[union-attr]

    def test_absent_condition_key_decides_before_variables(self) -> None:
        assert one("StringEquals", self.K, self.V, {}, unknown=["aws:PrincipalTag/*"]) is False
        assert one("StringNotEquals", self.K, self.V, {}, unknown=["aws:PrincipalTag/*"]) is True


def _resource(
    pattern: str | list[str],
    resource: str,
    ctx: dict[str, object],
    *,
    version: str | None = V2012,
    not_resource: bool = False,
    effect: str = "Allow",
    unknown: list[str] | None = None,
) -> tuple[bool, tuple[str, ...]]:
    element = "NotResource" if not_resource else "Resource"
    p = policy({"Effect": effect, "Action": "s3:*", element: pattern}, version=version)
    m = p.statements[0].resource_matcher
    assert isinstance(m, ResourceMatcher)
    r = m.match(resource, lookup_of(ctx, unknown), deny=p.statements[0].effect is Effect.DENY)
    return r.matched, r.unknown_keys


class TestResource:
    PAT = "arn:aws:s3:::mybucket/${aws:username}/*"

    def test_t35(self) -> None:
        assert _resource(self.PAT, "arn:aws:s3:::mybucket/David/x", {"aws:username": "David"}) == (True, ())
        assert _resource(self.PAT, "arn:aws:s3:::mybucket/Adele/x", {"aws:username": "David"}) == (False, ())

    def test_no_value_matches_nothing(self) -> None:
        # T35: a role session (no aws:username) matches no resource
        assert _resource(self.PAT, "arn:aws:s3:::mybucket/David/x", {}) == (False, ())
        assert _resource([self.PAT, "*"], "arn:aws:s3:::mybucket/David/x", {}) == (True, ())

    def test_no_value_in_not_resource_excludes_nothing(self) -> None:
        assert _resource(self.PAT, "arn:aws:s3:::mybucket/David/x", {}, not_resource=True) == (True, ())
        assert _resource(self.PAT, "arn:aws:s3:::mybucket/David/x", {"aws:username": "David"}, not_resource=True) == (
            False,
            (),
        )

    def test_default(self) -> None:
        # T36
        pat = "arn:aws:s3:::bkt-${aws:PrincipalTag/team, 'company-wide'}"
        assert _resource(pat, "arn:aws:s3:::bkt-yellow", {"aws:PrincipalTag/team": "yellow"})[0] is True
        assert _resource(pat, "arn:aws:s3:::bkt-company-wide", {})[0] is True
        assert _resource(pat, "arn:aws:s3:::bkt-yellow", {})[0] is False

    def test_version_2008_literal(self) -> None:
        # T39 (errata)
        assert (
            _resource(self.PAT, "arn:aws:s3:::mybucket/David/x", {"aws:username": "David"}, version=V2008)[0] is False
        )
        assert _resource(self.PAT, "arn:aws:s3:::mybucket/${aws:username}/x", {}, version=V2008)[0] is True
        assert _resource(self.PAT, "arn:aws:s3:::mybucket/David/x", {"aws:username": "David"}, version=None)[0] is False

    def test_substituted_value_is_literal(self) -> None:
        pat = "arn:aws:s3:::b/${aws:PrincipalTag/dir}/k"
        assert _resource(pat, "arn:aws:s3:::b/abc/k", {"aws:PrincipalTag/dir": "a*"})[0] is False
        assert _resource(pat, "arn:aws:s3:::b/x/y/k", {"aws:PrincipalTag/dir": "x/y"})[0] is True

    def test_escape_in_resource(self) -> None:
        assert _resource("arn:aws:s3:::b/a${?}c", "arn:aws:s3:::b/axc", {})[0] is False

    def test_variables_only_in_resource_part(self) -> None:
        # §4.2: only after the fifth colon; elsewhere the text is literal
        pat = "arn:aws:iam::${aws:PrincipalAccount}:user/x"
        assert _resource(pat, "arn:aws:iam::111122223333:user/x", {"aws:PrincipalAccount": "111122223333"})[0] is False

    def test_unknown_variable_key(self) -> None:
        matched, unknown = _resource(self.PAT, "arn:aws:s3:::mybucket/David/x", {}, unknown=["aws:username"])
        assert matched is False and unknown == ("aws:username",)

    def test_static_entry_decides_before_unknown_template(self) -> None:
        matched, unknown = _resource(
            [self.PAT, "arn:aws:s3:::mybucket/*"], "arn:aws:s3:::mybucket/David/x", {}, unknown=["aws:username"]
        )
        assert matched is True and unknown == ()


def test_variables_in_action_are_literal() -> None:
    p = policy({"Effect": "Allow", "Action": "s3:${aws:username}", "Resource": "*"})
    assert not p.statements[0].action_matcher.matches("s3:alice")
    assert p.statements[0].action_matcher.matches("s3:${aws:username}")


def test_variables_enabled_only_for_2012() -> None:
    assert policy({"Effect": "Allow", "Action": "*", "Resource": "*"}).variables_enabled
    assert not policy({"Effect": "Allow", "Action": "*", "Resource": "*"}, version=V2008).variables_enabled
    assert not policy({"Effect": "Allow", "Action": "*", "Resource": "*"}, version=None).variables_enabled
