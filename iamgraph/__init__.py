"""iamgraph: graph-based AWS IAM access path explorer with an exact, explainable policy evaluator.

The names below are the public API; a test pins them.
"""

from iamgraph.errors import IamGraphError, InputError, PolicyError
from iamgraph.evaluation import (
    Context,
    Decision,
    EngineOptions,
    MatchedStatement,
    OrgLevel,
    PolicySet,
    Principal,
    PrincipalKind,
    Request,
    Result,
    evaluate,
    evaluate_document,
    principal_from_arn,
)
from iamgraph.model import ConditionClause, Effect, Policy, PolicyKind, PrincipalBlock, Statement, StatementRef
from iamgraph.policy import parse_policy, parse_policy_text

__version__ = "0.1.0"

__all__ = [
    "ConditionClause",
    "Context",
    "Decision",
    "Effect",
    "EngineOptions",
    "IamGraphError",
    "InputError",
    "MatchedStatement",
    "OrgLevel",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "PolicySet",
    "Principal",
    "PrincipalBlock",
    "PrincipalKind",
    "Request",
    "Result",
    "Statement",
    "StatementRef",
    "__version__",
    "evaluate",
    "evaluate_document",
    "parse_policy",
    "parse_policy_text",
    "principal_from_arn",
]
