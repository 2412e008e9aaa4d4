"""Parsing policy documents (spec §1.6, §3.2, §6.1, §6.4, T03, T89, T90)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamgraph.errors import InputError, PolicyError
from iamgraph.model.policy import Effect, PolicyKind
from iamgraph.policy.parse import parse_policy, parse_policy_text

from .helpers import V2008, V2012, policy

ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def error(doc: Any, *, kind: PolicyKind = PolicyKind.IDENTITY, name: str = "MyPolicy") -> PolicyError:
    with pytest.raises(PolicyError) as exc:
        parse_policy(doc, name=name, kind=kind)
    return exc.value


def stmt_error(statements: Any, **kw: Any) -> PolicyError:
    return error({"Version": V2012, "Statement": statements}, **kw)


class TestNormalisation:
    def test_statement_object_or_array(self) -> None:
        one = policy(ALLOW_ALL)
        many = policy([ALLOW_ALL])
        assert len(one.statements) == 1 and one.statements == many.statements

    def test_string_or_list(self) -> None:
        a = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}).statements[0]
        b = policy({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}).statements[0]
        assert a.actions == b.actions == ("s3:GetObject",)
        assert a.resources == b.resources == ("arn:aws:s3:::b/*",)

    def test_lists_keep_order(self) -> None:
        st = policy({"Effect": "Allow", "Action": ["s3:B", "s3:A"], "Resource": "*"}).statements[0]
        assert st.actions == ("s3:B", "s3:A")

    def test_not_elements(self) -> None:
        st = policy({"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::b"}).statements[0]
        assert st.not_action and st.not_resource
        assert st.actions == ("iam:*",) and st.resources == ("arn:aws:s3:::b",)

    def test_condition_values_normalised_to_strings(self) -> None:
        st = policy(
            {
                **ALLOW_ALL,
                "Condition": {
                    "NumericLessThan": {"s3:max-keys": 10},
                    "NumericEquals": {"n": 2.5},
                    "Bool": {"aws:SecureTransport": True},
                    "StringEquals": {"k": ["a", 1, False]},
                },
            }
        ).statements[0]
        values = {c.key: c.values for c in st.conditions}
        assert values == {
            "s3:max-keys": ("10",),
            "n": ("2.5",),
            "aws:SecureTransport": ("true",),
            "k": ("a", "1", "false"),
        }

    def test_condition_clauses_one_per_key(self) -> None:
        st = policy(
            {**ALLOW_ALL, "Condition": {"StringEquals": {"a": "1", "b": "2"}, "Bool": {"c": "true"}}}
        ).statements[0]
        assert sorted((c.operator, c.key) for c in st.conditions) == [
            ("Bool", "c"),
            ("StringEquals", "a"),
            ("StringEquals", "b"),
        ]

    def test_operator_parts(self) -> None:
        st = policy({**ALLOW_ALL, "Condition": {"ForAnyValue:StringNotLikeIfExists": {"aws:TagKeys": "x"}}}).statements[
            0
        ]
        c = st.conditions[0]
        assert (c.qualifier, c.base, c.if_exists) == ("ForAnyValue", "StringNotLike", True)
        assert c.key_lc == "aws:tagkeys"

    def test_empty_condition_block(self) -> None:
        assert policy({**ALLOW_ALL, "Condition": {}}).statements[0].conditions == ()

    def test_version(self) -> None:
        assert policy(ALLOW_ALL).version == V2012
        assert policy(ALLOW_ALL, version=V2008).version == V2008
        assert policy(ALLOW_ALL, version=None).version is None

    def test_statement_refs(self) -> None:
        p = policy([ALLOW_ALL, {"Sid": "DenyS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}], name="P1")
        r0, r1 = (s.ref for s in p.statements)
        assert (r0.policy, r0.index, r0.sid, r0.effect, r0.label) == ("P1", 0, None, Effect.ALLOW, "Statement[0]")
        assert (r1.index, r1.sid, r1.effect, r1.label) == (1, "DenyS3", Effect.DENY, "DenyS3")
        assert r0.layer is PolicyKind.IDENTITY
        assert r1.to_json() == {"layer": "identity", "policy": "P1", "sid": "DenyS3", "index": 1, "effect": "Deny"}

    def test_empty_statement_array(self) -> None:
        assert policy([]).statements == ()

    def test_text_input(self) -> None:
        text = json.dumps({"Version": V2012, "Statement": ALLOW_ALL})
        expected = policy(ALLOW_ALL, name="t").statements
        assert parse_policy_text(text, name="t", kind=PolicyKind.IDENTITY).statements == expected
        assert parse_policy(text, name="t", kind=PolicyKind.IDENTITY).statements == expected

    def test_trust_policy_without_resource(self) -> None:
        p = policy(
            {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"},
            kind=PolicyKind.TRUST,
        )
        assert p.statements[0].resources is None and p.statements[0].resource_matcher is None

    def test_principal_forms(self) -> None:
        def block(value: Any):  # type: ignore[no-untyped-def]
            return (
                policy(
                    {"Effect": "Allow", "Principal": value, "Action": "s3:*", "Resource": "*"}, kind=PolicyKind.RESOURCE
                )
                .statements[0]
                .principal
            )

        assert block("*").wildcard
        assert block({"AWS": "*"}).wildcard
        b = block({"AWS": ["*", "111122223333"], "Service": "s3.amazonaws.com"})
        assert b.wildcard and b.aws == ("111122223333",) and b.service == ("s3.amazonaws.com",)
        b = block({"Federated": "cognito-identity.amazonaws.com", "CanonicalUser": "ab" * 32})
        assert b.federated == ("cognito-identity.amazonaws.com",) and b.canonical_user == ("ab" * 32,)


class TestErrors:
    def test_message_names_policy_and_element(self) -> None:
        e = stmt_error([ALLOW_ALL, ALLOW_ALL, {**ALLOW_ALL, "Condition": {"StringEqualz": {"aws:username": "x"}}}])
        assert str(e) == 'MyPolicy: Statement[2].Condition: unknown operator "StringEqualz"'
        assert e.policy == "MyPolicy" and e.element == "Statement[2].Condition"
        assert isinstance(e, InputError)

    def test_operator_names_are_case_sensitive(self) -> None:
        e = stmt_error({**ALLOW_ALL, "Condition": {"stringequals": {"k": "v"}}})
        assert 'unknown operator "stringequals"' in str(e)

    def test_unknown_set_operator(self) -> None:
        e = stmt_error({**ALLOW_ALL, "Condition": {"ForSomeValues:StringEquals": {"k": "v"}}})
        assert e.element == "Statement[0].Condition" and "ForSomeValues" in str(e)

    def test_unknown_operator_with_qualifier_and_suffix(self) -> None:
        e = stmt_error({**ALLOW_ALL, "Condition": {"ForAnyValue:StringEqualzIfExists": {"k": "v"}}})
        assert "unknown operator" in str(e)

    def test_null_if_exists_rejected(self) -> None:
        e = stmt_error({**ALLOW_ALL, "Condition": {"NullIfExists": {"k": "true"}}})
        assert e.element == "Statement[0].Condition" and '"Null" cannot take the IfExists suffix' in str(e)

    def test_unknown_statement_element(self) -> None:
        e = stmt_error([ALLOW_ALL, {"Effect": "Allow", "Acton": "s3:*", "Action": "s3:*", "Resource": "*"}])
        assert e.element == "Statement[1].Acton" and "unknown statement element" in str(e)

    def test_unknown_policy_element(self) -> None:
        e = error({"Version": V2012, "Statement": ALLOW_ALL, "Statements": []})
        assert e.element == "Statements" and str(e).startswith("MyPolicy: Statements:")

    def test_unsupported_version(self) -> None:
        e = error({"Version": "2020-01-01", "Statement": ALLOW_ALL})
        assert e.element == "Version" and "2020-01-01" in str(e)

    def test_missing_statement(self) -> None:
        assert error({"Version": V2012}).element == "Statement"

    @pytest.mark.parametrize("bad", ["text", 3, None])
    def test_statement_must_be_object_or_array(self, bad: Any) -> None:
        assert error({"Version": V2012, "Statement": bad}).element == "Statement"

    def test_statement_entries_must_be_objects(self) -> None:
        assert stmt_error([ALLOW_ALL, "x"]).element == "Statement[1]"

    def test_document_must_be_object(self) -> None:
        assert "JSON object" in str(error(["x"]))

    def test_invalid_json_text(self) -> None:
        with pytest.raises(PolicyError) as exc:
            parse_policy_text("{not json", name="Broken", kind=PolicyKind.IDENTITY)
        assert str(exc.value).startswith("Broken: not valid JSON")

    def test_missing_effect(self) -> None:
        assert stmt_error({"Action": "*", "Resource": "*"}).element == "Statement[0].Effect"

    def test_invalid_effect(self) -> None:
        assert stmt_error({"Effect": "Permit", "Action": "*", "Resource": "*"}).element == "Statement[0].Effect"

    def test_action_and_not_action(self) -> None:
        e = stmt_error({"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"})
        assert e.element == "Statement[0].NotAction"

    def test_missing_action(self) -> None:
        e = stmt_error({"Effect": "Allow", "Resource": "*"})
        assert e.element == "Statement[0].Action" and "missing" in str(e)

    def test_missing_resource_in_identity_policy(self) -> None:
        assert stmt_error({"Effect": "Allow", "Action": "*"}).element == "Statement[0].Resource"

    def test_resource_and_not_resource(self) -> None:
        e = stmt_error({"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"})
        assert e.element == "Statement[0].NotResource"

    @pytest.mark.parametrize("bad", [[], [1], 5, {"a": "b"}, None])
    def test_action_values(self, bad: Any) -> None:
        assert stmt_error({"Effect": "Allow", "Action": bad, "Resource": "*"}).element == "Statement[0].Action"

    def test_sid_must_be_string(self) -> None:
        assert stmt_error({**ALLOW_ALL, "Sid": 5}).element == "Statement[0].Sid"

    def test_condition_must_be_object(self) -> None:
        assert stmt_error({**ALLOW_ALL, "Condition": ["x"]}).element == "Statement[0].Condition"

    def test_operator_block_must_be_non_empty_object(self) -> None:
        assert (
            stmt_error({**ALLOW_ALL, "Condition": {"StringEquals": {}}}).element
            == "Statement[0].Condition.StringEquals"
        )
        assert (
            stmt_error({**ALLOW_ALL, "Condition": {"StringEquals": "x"}}).element
            == "Statement[0].Condition.StringEquals"
        )

    def test_condition_values(self) -> None:
        e = stmt_error({**ALLOW_ALL, "Condition": {"StringEquals": {"k": []}}})
        assert e.element == "Statement[0].Condition.StringEquals.k"
        e = stmt_error({**ALLOW_ALL, "Condition": {"StringEquals": {"k": {"nested": "x"}}}})
        assert e.element == "Statement[0].Condition.StringEquals.k"
        e = stmt_error({**ALLOW_ALL, "Condition": {"StringEquals": {"k": None}}})
        assert e.element == "Statement[0].Condition.StringEquals.k"

    @pytest.mark.parametrize("kind", [PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP])
    def test_principal_rejected_in_principal_less_policies(self, kind: PolicyKind) -> None:
        e = stmt_error({**ALLOW_ALL, "Principal": "*"}, kind=kind)
        assert e.element == "Statement[0].Principal" and "not allowed" in str(e)
        e = stmt_error({"Effect": "Deny", "Action": "*", "Resource": "*", "NotPrincipal": {"AWS": "1"}}, kind=kind)
        assert e.element == "Statement[0].NotPrincipal"

    @pytest.mark.parametrize("kind", [PolicyKind.TRUST, PolicyKind.RCP])
    def test_not_principal_rejected_in_trust_and_rcp(self, kind: PolicyKind) -> None:
        e = stmt_error(
            {"Effect": "Deny", "Action": "*", "Resource": "*", "NotPrincipal": {"AWS": "111122223333"}}, kind=kind
        )
        assert e.element == "Statement[0].NotPrincipal"

    @pytest.mark.parametrize("kind", [PolicyKind.RESOURCE, PolicyKind.TRUST])
    def test_principal_required_in_resource_and_trust_policies(self, kind: PolicyKind) -> None:
        e = stmt_error({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}, kind=kind)
        assert e.element == "Statement[0].Principal" and "missing" in str(e)

    def test_principal_and_not_principal(self) -> None:
        e = stmt_error(
            {"Effect": "Deny", "Principal": "*", "NotPrincipal": {"AWS": "1"}, "Action": "*", "Resource": "*"},
            kind=PolicyKind.RESOURCE,
        )
        assert e.element == "Statement[0].NotPrincipal"

    def test_unknown_principal_type(self) -> None:
        e = stmt_error(
            {"Effect": "Allow", "Principal": {"Aws": "111122223333"}, "Action": "*", "Resource": "*"},
            kind=PolicyKind.RESOURCE,
        )
        assert e.element == "Statement[0].Principal.Aws"

    @pytest.mark.parametrize("bad", ["arn:aws:iam::111122223333:root", {}, ["*"]])
    def test_principal_shape(self, bad: Any) -> None:
        e = stmt_error({"Effect": "Allow", "Principal": bad, "Action": "*", "Resource": "*"}, kind=PolicyKind.RESOURCE)
        assert e.element == "Statement[0].Principal"


class TestWarnings:
    @pytest.mark.parametrize("effect", ["allow", "ALLOW", "deny"])
    def test_effect_wrong_case_is_inert_and_warned(self, effect: str) -> None:
        # T03: Effect is case-sensitive; flag it and grant nothing
        p = policy({"Effect": effect, "Action": "s3:*", "Resource": "*"}, name="P")
        assert len(p.warnings) == 1
        assert p.warnings[0].startswith("P: Statement[0].Effect:") and effect in p.warnings[0]
        assert not p.statements[0].action_matcher.matches("s3:GetObject")

    def test_valid_policy_has_no_warnings(self) -> None:
        assert policy(ALLOW_ALL).warnings == ()

    @pytest.mark.parametrize(
        "entry",
        [
            "arn:aws:iam::111122223333:role/*",  # T89
            "arn:aws:iam::*:root",
            "arn:aws:sts::111122223333:assumed-role/R/*",
            "1111*",
        ],
    )
    def test_partial_wildcard_principal(self, entry: str) -> None:
        p = policy({"Effect": "Allow", "Principal": {"AWS": entry}, "Action": "sts:AssumeRole"}, kind=PolicyKind.TRUST)
        assert any("partial wildcards never match" in w and entry in w for w in p.warnings)
        assert p.warnings[0].startswith("test-policy: Statement[0].Principal.AWS:")

    def test_group_principal(self) -> None:
        # T90
        p = policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:group/dev"},
                "Action": "s3:*",
                "Resource": "*",
            },
            kind=PolicyKind.RESOURCE,
        )
        assert any("groups cannot be principals" in w for w in p.warnings)

    def test_service_wildcard(self) -> None:
        p = policy(
            {"Effect": "Allow", "Principal": {"Service": "*"}, "Action": "s3:*", "Resource": "*"},
            kind=PolicyKind.RESOURCE,
        )
        assert any("service principal" in w for w in p.warnings)
        assert p.statements[0].principal is not None and p.statements[0].principal.service == ()

    def test_not_principal_with_allow_is_inert(self) -> None:
        p = policy(
            {"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:*", "Resource": "*"},
            kind=PolicyKind.RESOURCE,
        )
        assert any("NotPrincipal" in w for w in p.warnings)
        assert not p.statements[0].action_matcher.matches("s3:GetObject")

    def test_full_wildcard_principal_is_not_warned(self) -> None:
        p = policy(
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}, kind=PolicyKind.RESOURCE
        )
        assert p.warnings == ()


def test_parse_is_pure() -> None:
    doc = {"Version": V2012, "Statement": [ALLOW_ALL, {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}]}
    before = json.dumps(doc, sort_keys=True)
    a = parse_policy(doc, name="x", kind=PolicyKind.IDENTITY)
    b = parse_policy(doc, name="x", kind=PolicyKind.IDENTITY)
    assert a == b and json.dumps(doc, sort_keys=True) == before
    assert a.raw == doc
