"""``iamgraph review``: the IAM best-practice review, backed by the access graph (docs/review.md).

A pure core: it reads an analysed snapshot (``Analysis``) and settings given as data, asks the query
layer and the evaluator, and returns a Report; the CLI and the API read files and clocks.
"""

from iamgraph.review.config import DEFAULT_SENSITIVE_ACTIONS, PasswordBaseline, ReviewConfig
from iamgraph.review.model import Check, Evidence, Finding, NotAssessed, Severity
from iamgraph.review.registry import checks
from iamgraph.review.report import SCHEMA, Report, review
from iamgraph.review.suppress import Suppression, parse_suppressions

__all__ = [
    "DEFAULT_SENSITIVE_ACTIONS",
    "SCHEMA",
    "Check",
    "Evidence",
    "Finding",
    "NotAssessed",
    "PasswordBaseline",
    "Report",
    "ReviewConfig",
    "Severity",
    "Suppression",
    "checks",
    "parse_suppressions",
    "review",
]
