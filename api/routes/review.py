"""GET/POST /review: the best-practice review of a snapshot, the JSON of `iamgraph review --json`.

GET takes the flags as query parameters; POST also takes the settings file (``config``) and the
suppressions as JSON. ``as_of`` (parameter or config) wins over the snapshot's own credential-report
time, which the core takes when neither is given. The review runs under the server's time budget and is
cached per snapshot load, request and day (suppression expiry without an as-of date is judged against
the server's date).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import Querying, QueryingDep
from api.review_schemas import ReviewBody, ReviewParams, ReviewResult
from api.routes import errors
from iamgraph.review import ReviewConfig, Severity, Suppression, parse_suppressions, review
from iamgraph.review.dates import parse_as_of

__all__ = ["router"]

router = APIRouter(prefix="/review", tags=["review"], responses=errors(401, 404, 422, 503))


def _config(q: ReviewParams) -> ReviewConfig:
    config = ReviewConfig()
    if isinstance(q, ReviewBody) and q.config is not None:
        config = ReviewConfig.from_mapping(q.config.model_dump(mode="json", exclude_none=True), where="config")
    flags: dict[str, Any] = {
        "only": frozenset(q.checks) if q.checks else None,
        "skip": frozenset(q.skip) if q.skip else None,
        "min_severity": Severity(q.min_severity) if q.min_severity else None,
        "unused_days": q.unused_days,
        "rotation_days": q.rotation_days,
        "root_recent_days": q.root_recent_days,
        "access_summary": False if not q.access_summary else None,
    }
    if q.as_of is not None:
        flags.update(as_of=parse_as_of(q.as_of, element="as_of"), as_of_source="as_of parameter")
    return config.with_overrides(**flags)


def _suppressions(q: ReviewParams) -> tuple[Suppression, ...]:
    if not isinstance(q, ReviewBody) or not q.suppressions:
        return ()
    items = [s.model_dump(mode="json", exclude_none=True) for s in q.suppressions]
    return parse_suppressions({"suppressions": items}, where="suppressions")


async def _review(q: ReviewParams, env: Querying) -> Response:
    entry = env.snapshot(q.snapshot)
    config, rules = _config(q), _suppressions(q)
    today: date = datetime.now(UTC).date()
    return await env.answer(
        f"review@{today.isoformat()}",
        q,
        (entry,),
        lambda: review(entry.analysis, config, rules, today=today, deadline=env.deadline()).to_json(),
    )


@router.get("", response_model=ReviewResult, summary="IAM best-practice review: findings with evidence")
async def review_get(q: Annotated[ReviewParams, Query()], env: QueryingDep) -> Response:
    return await _review(q, env)


@router.post("", response_model=ReviewResult, summary="IAM best-practice review with settings and suppressions")
async def review_post(q: ReviewBody, env: QueryingDep) -> Response:
    return await _review(q, env)
