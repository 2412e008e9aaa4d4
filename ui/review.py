"""The best-practice review as the explorer's "review" view: the same entry point as ``GET /review``.

``run_review`` runs :func:`iamgraph.review.review` with the review's own defaults (as-of: when the
snapshot's newest credential report was generated) and the view's two parameters; ``finding_ids`` names
the graph nodes a finding's evidence points at, so that selecting the finding can draw them.
"""

from __future__ import annotations

from typing import Any

from iamgraph.graph.queries import Analysis, Deadline
from iamgraph.review import ReviewConfig, Severity, review
from iamgraph.review.dates import parse_as_of

__all__ = ["finding_ids", "run_review"]


def run_review(
    analysis: Analysis, *, min_severity: str | None, as_of: str | None, deadline: Deadline | None
) -> dict[str, Any]:
    """The review report JSON (docs/review.md) for ``min_severity`` and ``as_of``, as ``GET /review`` answers them."""
    flags: dict[str, Any] = {}
    if min_severity:
        flags["min_severity"] = Severity.parse(min_severity, element="min_severity")
    if as_of:
        flags.update(as_of=parse_as_of(as_of, element="as_of"), as_of_source="as_of parameter")
    return review(analysis, ReviewConfig().with_overrides(**flags), deadline=deadline).to_json()


def finding_ids(analysis: Analysis, finding: dict[str, Any]) -> list[str]:
    """The evidence's principals and resources that are nodes of the graph (an account's root may not be)."""
    g = analysis.graph.graph
    evidence = finding["evidence"]
    return [n for n in dict.fromkeys([*evidence["principals"], *evidence["resources"]]) if n in g]
