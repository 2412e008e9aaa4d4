"""Condition operators: one module per family, looked up in a registry, evaluated three-valued."""

from iamgraph.policy.conditions.evaluate import evaluate_block, evaluate_clause
from iamgraph.policy.conditions.registry import REGISTRY, lookup_operator

__all__ = ["REGISTRY", "evaluate_block", "evaluate_clause", "lookup_operator"]
