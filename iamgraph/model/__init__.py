"""Frozen, keyword-only data model of policies, principals and requests."""

from iamgraph.model.policy import (
    ConditionClause,
    Effect,
    Policy,
    PolicyKind,
    PrincipalBlock,
    Statement,
    StatementRef,
)

__all__ = [
    "ConditionClause",
    "Effect",
    "Policy",
    "PolicyKind",
    "PrincipalBlock",
    "Statement",
    "StatementRef",
]
