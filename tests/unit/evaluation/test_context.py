"""Request context: case-insensitive keys, values, declared unknown and known keys (spec §1.5)."""

from __future__ import annotations

from iamgraph.evaluation.context import UNKNOWN, Context, KeyPatterns


class TestValues:
    def test_keys_are_case_insensitive(self) -> None:
        c = Context.build({"AWS:SourceIp": "203.0.113.1", "aws:PrincipalTag/Team": "red"})
        assert c.lookup("aws:sourceip") == "203.0.113.1"
        assert c.lookup("aws:principaltag/team") == "red"

    def test_lookup_expects_lower_case(self) -> None:
        assert Context.build({"aws:SourceIp": "x"}).lookup("aws:SourceIp") is None

    def test_absent(self) -> None:
        assert Context.build({}).lookup("aws:sourceip") is None

    def test_normalisation(self) -> None:
        c = Context.build({"b": True, "f": False, "n": 10, "x": 2.5, "s": "text", "l": ["a", 1, True], "e": []})
        assert c.lookup("b") == "true" and c.lookup("f") == "false"
        assert c.lookup("n") == "10" and c.lookup("x") == "2.5" and c.lookup("s") == "text"
        assert c.lookup("l") == ("a", "1", "true")
        assert c.lookup("e") == ()

    def test_single_vs_multivalued(self) -> None:
        c = Context.build({"aws:TagKeys": ["a"], "aws:RequestTag/a": "v"})
        assert c.lookup("aws:tagkeys") == ("a",)
        assert c.lookup("aws:requesttag/a") == "v"

    def test_empty_value_is_present(self) -> None:
        assert Context.build({"aws:RequestTag/a": ""}).lookup("aws:requesttag/a") == ""

    def test_with_values_does_not_overwrite_by_default(self) -> None:
        c = Context.build({"aws:PrincipalArn": "given"})
        d = c.with_values({"AWS:PRINCIPALARN": "derived", "aws:username": "alice"})
        assert d.lookup("aws:principalarn") == "given" and d.lookup("aws:username") == "alice"
        e = c.with_values({"aws:PrincipalArn": "derived"}, overwrite=True)
        assert e.lookup("aws:principalarn") == "derived"
        assert c.lookup("aws:username") is None  # immutable


class TestUnknown:
    def test_named_keys(self) -> None:
        c = Context.build({}, unknown=["aws:SourceIp"])
        assert c.lookup("aws:sourceip") is UNKNOWN
        assert c.lookup("aws:sourcevpc") is None
        assert c.partial

    def test_prefix_pattern(self) -> None:
        c = Context.build({}, unknown=["aws:RequestTag/*"])
        assert c.lookup("aws:requesttag/env") is UNKNOWN
        assert c.lookup("aws:requesttag/") is UNKNOWN
        assert c.lookup("aws:resourcetag/env") is None
        assert c.lookup("aws:requesttags") is None

    def test_prefix_pattern_case_insensitive(self) -> None:
        c = Context.build({}, unknown="AWS:PRINCIPALTAG/*")
        assert c.lookup("aws:principaltag/team") is UNKNOWN

    def test_everything(self) -> None:
        c = Context.build({"aws:SourceIp": "203.0.113.1"}, unknown="*")
        assert c.lookup("anything:atall") is UNKNOWN
        assert c.lookup("aws:sourceip") == "203.0.113.1"  # given values are known

    def test_known_patterns_win(self) -> None:
        c = Context.build({}, unknown="*", known=["aws:username", "aws:PrincipalTag/*"])
        assert c.lookup("aws:username") is None  # definitively absent
        assert c.lookup("aws:principaltag/team") is None
        assert c.lookup("aws:sourceip") is UNKNOWN

    def test_exact_context_is_not_partial(self) -> None:
        assert not Context.build({"a": "b"}).partial
        assert not Context().partial

    def test_with_values_keeps_patterns(self) -> None:
        c = Context.build({}, unknown=["aws:SourceIp"], known=["aws:username"]).with_values({"k": "v"})
        assert c.lookup("aws:sourceip") is UNKNOWN and c.lookup("aws:username") is None and c.lookup("k") == "v"


class TestKeyPatterns:
    def test_of(self) -> None:
        kp = KeyPatterns.of(["AWS:SourceIp", "aws:RequestTag/*", " s3:prefix "])
        assert kp.names == frozenset({"aws:sourceip", "s3:prefix"})
        assert kp.prefixes == ("aws:requesttag/",)
        assert not kp.everything

    def test_truthiness_and_membership(self) -> None:
        assert not KeyPatterns.of(None)
        assert not KeyPatterns.of([])
        assert KeyPatterns.of("*") and "x" in KeyPatterns.of("*")
        assert 5 not in KeyPatterns.of("*")
        assert "aws:sourceip" in KeyPatterns.of("aws:SourceIp")


def test_extended_is_build_of_the_merged_values() -> None:
    """``Context.extended`` (a principal's keys normalised once, a request's resource keys added) gives the
    context ``Context.build`` gives for the merged values: keys lower-cased, values normalised, the added
    keys winning."""
    raw = {"aws:username": "alice", "aws:PrincipalTag/Team": "blue", "aws:MultiFactorAuthPresent": True}
    extra = {"aws:ResourceAccount": "111122223333", "aws:ResourceOrgPaths": ["o-1/r-1/"], "aws:ResourceTag/n": 3}
    extra["aws:principaltag/team"] = "red"  # another case of a key of ``raw``: the added value wins
    unknown, known = KeyPatterns.of("*"), KeyPatterns.of(["aws:resourcetag/*"])
    made = Context.extended(Context.build(raw).values, extra, unknown=unknown, known=known)
    expected = Context.build({**raw, **extra}, unknown="*", known=["aws:resourcetag/*"])
    assert made == expected and dict(made.values) == dict(expected.values)
    assert made.lookup("aws:principaltag/team") == "red" and made.lookup("aws:resourcetag/n") == "3"
    assert made.lookup("aws:resourceorgpaths") == ("o-1/r-1/",) and made.lookup("aws:sourceip") is UNKNOWN
    assert made.lookup("aws:resourcetag/other") is None  # known: absent means absent
