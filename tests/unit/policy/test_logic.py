"""Three-valued expressions: folding, flattening, negation, substitution (iamgraph.policy.logic)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from iamgraph.model.policy import ConditionClause, Effect, PolicyKind, StatementRef
from iamgraph.policy.logic import And, Atom, Not, Or, atoms, conj, disj, expr_to_json, neg, substitute

REF = StatementRef(policy="p", layer=PolicyKind.IDENTITY, index=0, sid="S", effect=Effect.ALLOW)


def atom(key: str, *, undecidable: bool = False) -> Atom:
    clause = ConditionClause(
        operator="StringEquals", base="StringEquals", qualifier=None, if_exists=False, key=key, values=("v",)
    )
    return Atom(source=REF, clause=clause, reason=f"value of {key} is not known", undecidable=undecidable)


A, B, C = atom("a"), atom("b"), atom("c")


class TestFolding:
    def test_conj_constants(self) -> None:
        assert conj([]) is True
        assert conj([True, True]) is True
        assert conj([True, False, A]) is False
        assert conj([A, False]) is False
        assert conj([True, A]) == A

    def test_disj_constants(self) -> None:
        assert disj([]) is False
        assert disj([False, False]) is False
        assert disj([False, True, A]) is True
        assert disj([A, True]) is True
        assert disj([False, A]) == A

    def test_generators_accepted(self) -> None:
        assert conj(x for x in [A, B]) == And(frozenset({A, B}))
        assert disj(x for x in [A, B]) == Or(frozenset({A, B}))

    def test_duplicates_collapse(self) -> None:
        assert conj([A, A]) == A
        assert disj([A, A, False]) == A


class TestFlattening:
    def test_nested_and(self) -> None:
        assert conj([conj([A, B]), C]) == And(frozenset({A, B, C}))

    def test_nested_or(self) -> None:
        assert disj([disj([A, B]), C]) == Or(frozenset({A, B, C}))

    def test_mixed_not_flattened(self) -> None:
        x = conj([disj([A, B]), C])
        assert x == And(frozenset({Or(frozenset({A, B})), C}))

    def test_order_independent(self) -> None:
        assert conj([A, B]) == conj([B, A])
        assert hash(disj([A, B, C])) == hash(disj([C, A, B]))


class TestNegation:
    def test_constants(self) -> None:
        assert neg(True) is False
        assert neg(False) is True

    def test_atom(self) -> None:
        assert neg(A) == Not(A)

    def test_double_negation(self) -> None:
        assert neg(neg(A)) == A
        assert neg(Not(A)) == A
        x = conj([A, B])
        assert neg(neg(x)) == x

    def test_no_de_morgan_rewrite(self) -> None:
        assert neg(conj([A, B])) == Not(And(frozenset({A, B})))


class TestSubstitute:
    def test_constants_unchanged(self) -> None:
        assert substitute(True, lambda a: False) is True
        assert substitute(False, lambda a: True) is False

    def test_atom(self) -> None:
        assert substitute(A, lambda a: True) is True
        assert substitute(A, lambda a: False) is False

    def test_folds_after_substitution(self) -> None:
        x = conj([A, neg(B), disj([C, A])])
        values = {A: True, B: False, C: False}
        assert substitute(x, lambda a: values[a]) is True
        values = {A: True, B: True, C: False}
        assert substitute(x, lambda a: values[a]) is False

    def test_partial_substitution_keeps_open_atoms(self) -> None:
        x = conj([A, disj([B, C])])
        r = substitute(x, lambda a: True if a == A else a)
        assert r == disj([B, C])
        r = substitute(x, lambda a: False if a == B else a)
        assert r == conj([A, C])

    def test_negation_substituted(self) -> None:
        assert substitute(neg(A), lambda a: True) is False
        assert substitute(neg(A), lambda a: B) == Not(B)

    def test_substitution_with_expressions(self) -> None:
        assert substitute(A, lambda a: conj([B, C])) == And(frozenset({B, C}))

    def test_matches_brute_force_truth_table(self) -> None:
        import itertools

        x = disj([conj([A, neg(B)]), conj([neg(A), C]), neg(disj([B, C]))])

        def direct(a: bool, b: bool, c: bool) -> bool:
            return (a and not b) or ((not a) and c) or not (b or c)

        for a, b, c in itertools.product([False, True], repeat=3):
            values = {A: a, B: b, C: c}
            assert substitute(x, values.__getitem__) is direct(a, b, c)


def test_atoms_enumerates_every_atom() -> None:
    x = conj([A, neg(disj([B, neg(C)]))])
    assert sorted(a.clause.key for a in atoms(x) if a.clause) == ["a", "b", "c"]
    assert list(atoms(True)) == []


def test_expr_to_json() -> None:
    assert expr_to_json(True) is True
    j = expr_to_json(conj([A, neg(B)]))
    assert set(j) == {"all"} and len(j["all"]) == 2
    assert {"not": expr_to_json(B)} in j["all"] and expr_to_json(A) in j["all"]
    assert expr_to_json(A) == {
        "source": REF.to_json(),
        "reason": "value of a is not known",
        "condition": {"operator": "StringEquals", "key": "a", "values": ["v"]},
    }
    assert expr_to_json(atom("z", undecidable=True))["undecidable"] is True
    assert expr_to_json(disj([A, B])) == expr_to_json(disj([B, A]))  # stable order


_NESTED = """
import json, sys
sys.path.insert(0, sys.argv[1])
from tests.unit.policy.test_logic import atom
from iamgraph.policy.logic import conj, disj, expr_to_json, neg
a, b, c, d, e = (atom(k) for k in "abcde")
x = conj([neg(disj([conj([a, b]), c, d])), neg(disj([conj([a, b]), e, d])), disj([conj([c, e]), conj([b, d])])])
print(json.dumps(expr_to_json(x)))
"""


def test_expr_to_json_is_the_same_in_every_process() -> None:
    """The parts of an And or Or that holds another And or Or come out in one order whatever the hash seed
    of the process (the text of a frozenset follows its items' hashes): the same edge, the same JSON."""
    root = str(Path(__file__).resolve().parents[3])
    outputs = set()
    for seed in range(8):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        run = subprocess.run([sys.executable, "-c", _NESTED, root], env=env, capture_output=True, text=True, cwd=root)
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1
