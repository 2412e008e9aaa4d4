"""Policy language: parsing, matching, conditions, variables and three-valued logic."""

from iamgraph.policy.logic import And, Atom, Expr, Not, Or, conj, disj, neg
from iamgraph.policy.parse import parse_policy, parse_policy_text

__all__ = ["And", "Atom", "Expr", "Not", "Or", "conj", "disj", "neg", "parse_policy", "parse_policy_text"]
