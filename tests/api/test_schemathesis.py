"""Property-based tests from our own OpenAPI (Schemathesis): no generated input gives a 5xx.

Each operation gets a bounded number of generated requests (valid and invalid) with the bearer token;
responses must also match the documented status codes, content types, headers and schemas. Semantic
rejections of schema-valid input (an unknown ARN is 404, an archive that is not a snapshot is 422) are
expected, so the "schema-valid request accepted" check is left out. (Driven through hypothesis directly:
Schemathesis' lazy pytest loader does not run on pytest 9.)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from api.settings import Settings
from iamgraph.graph.queries import Analysis

from .conftest import TOKEN, make_app

_SPEC = create_app(Settings(data="")).openapi()
OPERATIONS = sorted((method.upper(), path) for path, item in _SPEC["paths"].items() for method in item)


@pytest.fixture(scope="module")
def api_schema(analyses: dict[str, tuple[Analysis, float]]) -> Any:
    app = make_app(analyses, api_token=TOKEN, query_time_budget_s=2, max_upload_bytes=64 * 1024)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_errors(api_schema: Any, method: str, path: str) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=20,
        deadline=timedelta(seconds=10),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[positive_data_acceptance]
        )
        assert response.status_code < 500, response.text

    run()


def test_every_route_is_covered() -> None:
    assert len(OPERATIONS) >= 25
    assert ("POST", "/snapshots") in OPERATIONS and ("POST", "/simulate") in OPERATIONS
