"""SARIF 2.1.0 output: the structure the specification requires, checked with a JSON Schema written from it,
plus the cross-references a schema cannot express (ruleIndex, fingerprints, suppressions)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jsonschema

from iamgraph.export.sarif import SARIF_VERSION, to_sarif
from iamgraph.review import parse_suppressions

from .builder import VENDOR, Acct, Key, allow, run, trust

_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
_LEVEL = {"enum": ["none", "note", "warning", "error"]}
_NOTIFICATION = {"type": "object", "required": ["message"], "properties": {"message": _MESSAGE, "level": _LEVEL}}
# The parts of the SARIF 2.1.0 schema (OASIS standard, sections 3.13-3.58) this exporter writes.
SARIF_SUBSET: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": _MESSAGE,
                                                "fullDescription": _MESSAGE,
                                                "help": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {"level": _LEVEL},
                                                },
                                                "properties": {"type": "object"},
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "originalUriBaseIds": {
                        "type": "object",
                        "additionalProperties": {"type": "object", "properties": {"uri": {"type": "string"}}},
                    },
                    "invocations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["executionSuccessful"],
                            "properties": {
                                "executionSuccessful": {"type": "boolean"},
                                "toolConfigurationNotifications": {"type": "array", "items": _NOTIFICATION},
                                "toolExecutionNotifications": {"type": "array", "items": _NOTIFICATION},
                            },
                        },
                    },
                    "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": _LEVEL,
                                "message": _MESSAGE,
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "properties": {
                                                            "uri": {"type": "string"},
                                                            "uriBaseId": {"type": "string"},
                                                        },
                                                    }
                                                },
                                            },
                                            "logicalLocations": {
                                                "type": "array",
                                                "items": {
                                                    "type": "object",
                                                    "properties": {
                                                        "fullyQualifiedName": {"type": "string"},
                                                        "kind": {"type": "string"},
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                                "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
                                "suppressions": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["kind"],
                                        "properties": {
                                            "kind": {"enum": ["inSource", "external"]},
                                            "status": {"enum": ["accepted", "underReview", "rejected"]},
                                            "justification": {"type": "string"},
                                        },
                                    },
                                },
                                "properties": {"type": "object"},
                            },
                        },
                    },
                },
            },
        },
    },
}


def _report(tmp_path: Path) -> dict[str, Any]:
    a = Acct()
    a.user("admin", managed=(a.admin_policy(),))
    a.role("vendor", trust({"AWS": VENDOR}), allow("s3:ListAllMyBuckets"))
    a.user("old")
    a.credentials("old", keys=(Key(rotated="2020-01-01T00:00:00+00:00"),))
    rules = parse_suppressions(
        {
            "suppressions": [
                {"check": "user-access-keys-only", "reason": "CI user, ticket OPS-7"},
                {"check": "root-access-key", "reason": "stale", "expires": "2020-01-01"},
            ]
        }
    )
    return run(tmp_path, a, suppressions=rules)


def test_sarif_structure(tmp_path: Path) -> None:
    report = _report(tmp_path)
    log = to_sarif(report, base_uri="snapshots/prod/")
    jsonschema.validate(log, SARIF_SUBSET)
    assert log["version"] == SARIF_VERSION
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [c["id"] for c in report["checks"] if c["enabled"]]
    results = run_["results"]
    assert len(results) == len(report["findings"]) + len(report["suppressed"])
    by_id = {r["properties"]["findingId"]: r for r in results}
    for f in report["findings"]:
        res = by_id[f["id"]]
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"] == f["check"]
        assert res["partialFingerprints"]["iamgraphFindingId/v1"] == hashlib.sha256(f["id"].encode()).hexdigest()
        assert res["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == f["subject"]
        assert res["locations"][0]["physicalLocation"]["artifactLocation"] == {
            "uri": f["file"],
            "uriBaseId": "SNAPSHOT",
        }
        assert "suppressions" not in res
        expected = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}[
            f["severity"]
        ]
        assert res["level"] == expected
    assert run_["originalUriBaseIds"] == {"SNAPSHOT": {"uri": "snapshots/prod/"}}


def test_sarif_suppressions_and_notifications(tmp_path: Path) -> None:
    report = _report(tmp_path)
    results = to_sarif(report)["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert suppressed and all(
        r["suppressions"] == [{"kind": "external", "status": "accepted", "justification": "CI user, ticket OPS-7"}]
        for r in suppressed
    )
    invocation = to_sarif(report)["runs"][0]["invocations"][0]
    texts = [n["message"]["text"] for n in invocation["toolConfigurationNotifications"]]
    assert any("matched no finding" in t or "expired" in t for t in texts)
    assert any("monitoring" in n["message"]["text"] for n in invocation["toolExecutionNotifications"])


def test_security_severity_scores() -> None:
    from iamgraph.review import checks

    report = {
        "checks": [{**c.to_json(), "enabled": True} for c in checks()],
        "findings": [],
        "suppressed": [],
        "suppressions": {"expired": [], "unused": []},
        "not_assessed": [],
        "out_of_scope": [],
        "tool": {"name": "iamgraph", "version": "0"},
        "schema": "s",
        "as_of": {},
        "summary": {},
    }
    rules = to_sarif(report)["runs"][0]["tool"]["driver"]["rules"]
    scores = {r["id"]: r["properties"].get("security-severity") for r in rules}
    assert float(scores["root-access-key"]) >= 9.0 and float(scores["user-multiple-active-keys"]) < 4.0
    assert scores["inline-policy"] is None  # informational checks carry no score
