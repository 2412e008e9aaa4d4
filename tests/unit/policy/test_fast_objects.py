"""Parsed objects built by the fast constructors are ordinary frozen model objects, and the pattern memos
only ever speed things up."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from iamgraph.evaluation.context import Context, KeyPatterns
from iamgraph.evaluation.request import Principal, PrincipalKind
from iamgraph.model._fast import copier, fast_constructor, slots_twin
from iamgraph.model.policy import (
    ConditionClause,
    Effect,
    Policy,
    PolicyKind,
    PrincipalBlock,
    Statement,
    StatementRef,
)
from iamgraph.policy.memo import clear_memos, memo_sizes
from iamgraph.policy.parse import parse_policy

DOC: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "A",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/R"},
            "Action": ["s3:Get*", "s3:List*"],
            "Resource": "arn:aws:s3:::b/*",
        },
        {
            "Effect": "Deny",
            "Principal": {"AWS": ["*", "111122223333"]},
            "NotAction": "iam:*",
            "NotResource": ["arn:aws:s3:::b", "arn:aws:s3:::b/${aws:username}"],
            "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpc": ["vpc-1", 2]}, "Bool": {"k": True}},
        },
        {"Sid": "C", "Effect": "Deny", "Principal": "*", "NotAction": "s3:*", "Resource": "arn:aws:s3:::b/*"},
    ],
}


def _rebuilt(policy: Policy) -> Policy:
    """The same policy assembled with the classes' own (slow) constructors."""
    statements = tuple(
        Statement(
            ref=StatementRef(**{f.name: getattr(st.ref, f.name) for f in dataclasses.fields(StatementRef)}),
            principal=None if st.principal is None else PrincipalBlock(**dataclasses.asdict(st.principal)),
            not_principal=None if st.not_principal is None else PrincipalBlock(**dataclasses.asdict(st.not_principal)),
            actions=st.actions,
            not_action=st.not_action,
            resources=st.resources,
            not_resource=st.not_resource,
            conditions=tuple(ConditionClause(**dataclasses.asdict(c)) for c in st.conditions),
            action_matcher=st.action_matcher,
            resource_matcher=st.resource_matcher,
            raw=st.raw,
        )
        for st in policy.statements
    )
    return Policy(
        name=policy.name,
        kind=policy.kind,
        version=policy.version,
        statements=statements,
        raw=policy.raw,
        warnings=policy.warnings,
    )


class TestParsedObjects:
    def test_equal_to_objects_built_by_their_classes(self) -> None:
        p = parse_policy(DOC, name="P", kind=PolicyKind.RESOURCE)
        q = _rebuilt(p)
        assert p == q and hash(p.statements[0].ref) == hash(q.statements[0].ref)
        assert repr(p) == repr(q)

    def test_exact_types_frozen_and_copyable(self) -> None:
        p = parse_policy(DOC, name="P", kind=PolicyKind.RESOURCE)
        objects = [p, *p.statements, *(st.ref for st in p.statements), *p.statements[1].conditions]
        objects.append(p.statements[1].principal)
        for obj in objects:
            assert type(obj) in (Policy, Statement, StatementRef, ConditionClause, PrincipalBlock)
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(obj, dataclasses.fields(obj)[0].name, "x")  # type: ignore[arg-type]
        ref = p.statements[0].ref
        assert pickle.loads(pickle.dumps(ref)) == ref
        assert copy.deepcopy(p.statements[1].conditions) == p.statements[1].conditions
        assert dataclasses.replace(ref, index=5).index == 5


class TestFastConstructor:
    def test_defaults_and_fresh_default_factories(self) -> None:
        new = fast_constructor(Principal)
        a = new(kind=PrincipalKind.ROOT, arn="arn:aws:iam::111122223333:root")
        b = new(kind=PrincipalKind.ROOT, arn="arn:aws:iam::111122223333:root")
        assert a == Principal(kind=PrincipalKind.ROOT, arn="arn:aws:iam::111122223333:root")
        assert a.tags == {} and a.tags is not b.tags and a.partition == "aws"

    def test_positional_fields(self) -> None:
        new = fast_constructor(Context)
        c = new({"k": "v"})
        assert type(c) is Context and c == Context({"k": "v"}) and c.unknown == KeyPatterns()

    def test_keyword_only_is_kept(self) -> None:
        new = fast_constructor(StatementRef)
        with pytest.raises(TypeError):
            new("P", PolicyKind.IDENTITY, 0, None, None)  # type: ignore[misc]

    def test_classes_it_does_not_fit_are_returned_unchanged(self) -> None:
        @dataclasses.dataclass(slots=True)
        class Mutable:
            x: int

        @dataclasses.dataclass(frozen=True)
        class NoSlots:
            x: int

        @dataclasses.dataclass(frozen=True, slots=True)
        class WithPostInit:
            x: int

            def __post_init__(self) -> None:
                pass

        for cls in (Mutable, NoSlots, WithPostInit):
            assert fast_constructor(cls) is cls
            with pytest.raises(TypeError):
                slots_twin(cls)

    def test_a_filled_twin_becomes_the_class(self) -> None:
        ref = slots_twin(StatementRef)()
        for name, value in (("policy", "P"), ("layer", PolicyKind.SCP), ("index", 2), ("sid", None)):
            setattr(ref, name, value)
        ref.effect = Effect.DENY
        ref.__class__ = StatementRef
        assert ref == StatementRef(policy="P", layer=PolicyKind.SCP, index=2, sid=None, effect=Effect.DENY)
        assert hash(ref) == hash(StatementRef(policy="P", layer=PolicyKind.SCP, index=2, sid=None, effect=Effect.DENY))


def test_clearing_the_memos_changes_no_result() -> None:
    before = parse_policy(DOC, name="P", kind=PolicyKind.RESOURCE)
    assert before.statements[0].action_matcher.matches("s3:GetObject")
    assert any(memo_sizes().values())
    clear_memos()
    assert not any(memo_sizes().values())
    after = parse_policy(DOC, name="P", kind=PolicyKind.RESOURCE)
    assert after == before and after.statements[0].action_matcher is not before.statements[0].action_matcher
    assert after.statements[0].action_matcher.matches("s3:GetObject")


def test_fast_pickled_objects_round_trip_through_pickle_and_copy() -> None:
    """Graph objects pickle as their field values (iamgraph.model._fast.fast_pickle): what comes back
    is an equal, hashable object of the same class, also through copy and deepcopy."""
    from iamgraph.edges.base import DerivedEdge, EdgeKind
    from iamgraph.evaluation.decision import MatchedStatement
    from iamgraph.policy.logic import Atom, conj, disj, neg

    policy = parse_policy(DOC, name="p", kind=PolicyKind.RESOURCE)
    st = policy.statements[0]
    clause = ConditionClause(
        operator="Bool", base="Bool", qualifier=None, if_exists=False, key="aws:X", values=("true",)
    )
    atom = Atom(source=st.ref, clause=clause, reason="value of aws:X is not known")
    other = Atom(source=st.ref, clause=dataclasses.replace(clause, key="aws:Y"), reason="y")
    edge = DerivedEdge(
        source="arn:aws:iam::111122223333:role/R",
        target="arn:aws:s3:::b",
        kind=EdgeKind.ACCESS,
        technique="resource-access",
        actions=("s3:GetObject",),
        proof=(MatchedStatement(ref=st.ref, conditional=True, forms=("role",)),),
        conditions=disj([conj([atom, neg(other)]), other]),
        access={"Read": ("s3:GetObject",)},
    )
    for obj in (edge, policy, st, st.ref, atom, edge.conditions, edge.proof[0]):
        for back in (pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)), copy.copy(obj)):
            assert type(back) is type(obj) and back == obj and hash(back) == hash(obj)
        assert copy.deepcopy(obj) == obj
    with pytest.raises(dataclasses.FrozenInstanceError):
        pickle.loads(pickle.dumps(edge)).technique = "x"  # type: ignore[misc]


def test_copier_makes_ordinary_copies_that_differ_in_one_field() -> None:
    """``copier(cls, name)`` copies an instance once per value of one field: each copy is an ordinary frozen
    instance equal to ``dataclasses.replace`` with that value; a class the fast path does not fit gets
    ``replace`` itself, and an unknown field is refused."""
    ref = StatementRef(policy="p", layer=PolicyKind.IDENTITY, index=0, sid="S", effect=Effect.ALLOW)
    copies = copier(StatementRef, "index")(ref, [3, 0, 7])
    assert copies == [dataclasses.replace(ref, index=i) for i in (3, 0, 7)]
    assert all(type(c) is StatementRef and hash(c) == hash(dataclasses.replace(ref, index=c.index)) for c in copies)
    assert copies[1] == ref and copies[1] is not ref
    with pytest.raises(dataclasses.FrozenInstanceError):
        copies[0].index = 1  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(copies)) == copies
    assert copier(StatementRef, "index")(ref, []) == []

    @dataclasses.dataclass(frozen=True)
    class Plain:  # no slots: not for the fast path
        a: int
        b: str

    assert copier(Plain, "b")(Plain(1, "x"), ["y", "z"]) == [Plain(1, "y"), Plain(1, "z")]
    with pytest.raises(TypeError, match="no field c"):
        copier(Plain, "c")
