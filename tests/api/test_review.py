"""GET/POST /review: the JSON of `iamgraph review --json`, snapshot selection, settings, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.review_schemas import ReviewResult
from iamgraph.graph.queries import Analysis
from iamgraph.review import ReviewConfig, review

from .conftest import assert_error, make_app

AS_OF = "2026-11-15"


def test_get_review_is_the_cli_json(client: TestClient, analyses: dict[str, tuple[Analysis, float]]) -> None:
    r = client.get("/review", params={"snapshot": "single", "as_of": AS_OF})
    assert r.status_code == 200, r.text
    assert r.headers["X-Iamgraph-Bounds"].startswith("time_budget_s=")
    body = r.json()
    ReviewResult.model_validate(body)
    config = ReviewConfig().with_overrides(as_of=datetime(2026, 11, 15, tzinfo=UTC), as_of_source="as_of parameter")
    expected = review(analyses["single"][0], config).to_json()
    assert body == expected
    assert body["findings"], "the single-account fixture has findings"


def test_snapshot_selection(client: TestClient) -> None:
    default = client.get("/review", params={"as_of": AS_OF, "checks": ["trust-outside-organization"]}).json()
    org = client.get("/review", params={"snapshot": "org", "as_of": AS_OF, "checks": ["trust-outside-organization"]})
    assert org.status_code == 200
    assert [a["id"] for a in default["snapshot"]["accounts"]] == ["111122223333"]
    assert len(org.json()["snapshot"]["accounts"]) == 2
    assert_error(client.get("/review", params={"snapshot": "nope"}), 404, "snapshot_not_found")


def test_query_flags(client: TestClient) -> None:
    r = client.get(
        "/review",
        params={"as_of": AS_OF, "skip": ["inline-policy"], "min_severity": "medium", "access_summary": "false"},
    ).json()
    assert not [f for f in r["findings"] if f["check"] == "inline-policy" or f["severity"] in ("low", "info")]
    assert r["access_summary"] is None and r["config"]["min_severity"] == "medium"


def test_post_with_config_and_suppressions(client: TestClient) -> None:
    body: dict[str, Any] = {
        "as_of": AS_OF,
        "config": {"thresholds": {"rotation_days": 36500}, "severity": {"user-direct-policies": "high"}},
        "suppressions": [
            {"check": "inline-policy", "reason": "reviewed in SEC-12"},
            {"check": "trust-to-anyone", "reason": "never matched", "expires": "2030-01-01"},
        ],
    }
    r = client.post("/review", json=body)
    assert r.status_code == 200, r.text
    doc = r.json()
    ReviewResult.model_validate(doc)
    assert not [f for f in doc["findings"] if f["check"] in ("inline-policy", "access-key-not-rotated")]
    assert {f["severity"] for f in doc["findings"] if f["check"] == "user-direct-policies"} == {"high"}
    assert {f["suppression"]["reason"] for f in doc["suppressed"]} == {"reviewed in SEC-12"}
    assert [s["check"] for s in doc["suppressions"]["unused"]] == ["trust-to-anyone"]


@pytest.mark.parametrize(
    ("method", "kwargs", "element"),
    [
        ("get", {"params": {"as_of": "soon"}}, "as_of"),
        ("get", {"params": {"checks": ["not-a-check"]}}, "checks"),
        ("post", {"json": {"config": {"sensitive_actions": ["iam:Nope"]}}}, "sensitive_actions"),
    ],
)
def test_invalid_input(client: TestClient, method: str, kwargs: dict[str, Any], element: str) -> None:
    detail = assert_error(getattr(client, method)("/review", **kwargs), 422, "invalid_input")
    assert detail["element"] == element


def test_request_validation(client: TestClient) -> None:
    assert_error(client.post("/review", json={"suppressions": [{"check": "inline-policy"}]}), 422, "validation_error")
    assert_error(client.get("/review", params={"unused_days": 0}), 422, "validation_error")
    assert_error(client.post("/review", json={"config": {"colour": "blue"}}), 422, "validation_error")


def test_time_budget(analyses: dict[str, tuple[Analysis, float]]) -> None:
    with TestClient(make_app(analyses, query_time_budget_s=0)) as c:
        detail = assert_error(c.get("/review", params={"as_of": AS_OF}), 422, "limit_exceeded")
    assert detail["limit"] == "time_budget_s"


def test_token_required(analyses: dict[str, tuple[Analysis, float]]) -> None:
    with TestClient(make_app(analyses, api_token="t0ken")) as c:
        assert_error(c.get("/review"), 401, "unauthorized")
        assert c.get("/review", headers={"Authorization": "Bearer t0ken"}).status_code == 200
