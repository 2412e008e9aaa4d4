"""Implication between residual conditions (iamgraph.graph.subsume), used to drop edges an admin mark covers."""

from __future__ import annotations

import pytest

from iamgraph.graph.subsume import implies
from iamgraph.model.policy import ConditionClause, Effect, PolicyKind, StatementRef
from iamgraph.policy.logic import Atom, Expr, conj, disj, neg

REF = StatementRef(policy="p", layer=PolicyKind.IDENTITY, index=0, sid="S", effect=Effect.ALLOW)


def atom(key: str) -> Atom:
    clause = ConditionClause(operator="Bool", base="Bool", qualifier=None, if_exists=False, key=key, values=("true",))
    return Atom(source=REF, clause=clause, reason=f"value of {key} is not known")


MFA, IP, TIME = atom("aws:MultiFactorAuthPresent"), atom("aws:SourceIp"), atom("aws:CurrentTime")


@pytest.mark.parametrize(
    ("premise", "conclusion", "expected"),
    [
        (True, True, True),
        (True, MFA, False),  # usable always, admin only with MFA: the edge matters
        (MFA, MFA, True),
        (conj([MFA, IP]), MFA, True),
        (MFA, conj([MFA, IP]), False),
        (disj([MFA, IP]), MFA, False),  # usable with IP alone
        (MFA, disj([MFA, IP]), True),
        (conj([MFA, neg(IP)]), disj([MFA, TIME]), True),
        (conj([disj([MFA, IP]), disj([MFA, neg(IP)])]), MFA, True),  # (m|i)&(m|!i) == m
        (neg(MFA), MFA, False),
        (False, MFA, True),
        (IP, True, True),
    ],
)
def test_implies(premise: Expr, conclusion: Expr, expected: bool) -> None:
    assert implies(premise, conclusion) is expected


def test_too_many_atoms_keeps_the_edge() -> None:
    many = conj([atom(f"k{i}") for i in range(12)])
    assert implies(MFA, many) is False
