"""Policy evaluation: requests, contexts, the decision procedure and its explained result."""

from iamgraph.evaluation.context import Context
from iamgraph.evaluation.decision import Decision, MatchedStatement, Result
from iamgraph.evaluation.document import DocumentResult, build_request, evaluate_document
from iamgraph.evaluation.engine import evaluate
from iamgraph.evaluation.policyset import EngineOptions, OrgLevel, PolicySet
from iamgraph.evaluation.request import Principal, PrincipalKind, Request, principal_from_arn

__all__ = [
    "Context",
    "Decision",
    "DocumentResult",
    "EngineOptions",
    "MatchedStatement",
    "OrgLevel",
    "PolicySet",
    "Principal",
    "PrincipalKind",
    "Request",
    "Result",
    "build_request",
    "evaluate",
    "evaluate_document",
    "principal_from_arn",
]
