"""A review report as SARIF 2.1.0, for code-scanning and CI systems. It serialises the report's JSON
(iamgraph.review.Report.to_json) and computes nothing.

* one rule per enabled check (id, title, description, remediation as help, default level, tags and a
  ``security-severity`` score that code-scanning UIs rank by);
* one result per finding: level from the severity, the snapshot file as physical location (relative to
  the ``SNAPSHOT`` base), the subject's ARN as logical location, a stable fingerprint of the finding id,
  the evidence under ``properties``; suppressed findings carry an external, accepted suppression with the
  reason;
* expired and unused suppressions and what was not assessed become notifications of the invocation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "to_sarif"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# Scores as code-scanning services bucket them: >= 9 critical, >= 7 high, >= 4 medium, > 0 low.
SCORES = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
BASE = "SNAPSHOT"


def _rule(check: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"tags": ["security", "iam", str(check["family"])], "precision": "high"}
    if check["severity"] in SCORES:
        properties["security-severity"] = SCORES[check["severity"]]
    return {
        "id": check["id"],
        "name": "".join(part.capitalize() for part in str(check["id"]).split("-")),
        "shortDescription": {"text": check["title"]},
        "fullDescription": {"text": check["description"]},
        "help": {"text": f"{check['remediation']} (reads: {check['reads']})"},
        "defaultConfiguration": {"level": LEVELS[check["severity"]]},
        "properties": properties,
    }


def _location(finding: Mapping[str, Any], single_file: str | None) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [{"fullyQualifiedName": finding["subject"], "kind": "resource"}],
    }
    uri = single_file or finding.get("file")
    if uri:
        location["physicalLocation"] = {"artifactLocation": {"uri": uri, "uriBaseId": BASE}}
    return location


def _result(finding: Mapping[str, Any], index: int, single_file: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding["check"],
        "ruleIndex": index,
        "level": LEVELS[finding["severity"]],
        "message": {"text": finding["title"]},
        "locations": [_location(finding, single_file)],
        "partialFingerprints": {"iamgraphFindingId/v1": hashlib.sha256(finding["id"].encode()).hexdigest()},
        "properties": {
            "findingId": finding["id"],
            "severity": finding["severity"],
            "account": finding["account"],
            "remediation": finding["remediation"],
            "evidence": finding["evidence"],
        },
    }
    if finding.get("suppression"):
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": finding["suppression"]["reason"]}
        ]
    return result


def _notifications(report: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    config: list[dict[str, Any]] = []
    for s in report["suppressions"]["expired"]:
        text = f"suppression {s['index']} expired on {s['expires']}: {s['reason']}"
        config.append({"level": "warning", "message": {"text": text}, "descriptor": {"id": "suppression-expired"}})
    for s in report["suppressions"]["unused"]:
        text = f"suppression {s['index']} matched no finding: {s['reason']}"
        config.append({"level": "note", "message": {"text": text}, "descriptor": {"id": "suppression-unused"}})
    execution = [
        {
            "level": "note",
            "message": {
                "text": f"not assessed{' in ' + n['account'] if n['account'] else ''}: {n['reason']} "
                f"({', '.join(n['checks'])})"
            },
            "descriptor": {"id": "not-assessed"},
        }
        for n in report["not_assessed"]
    ]
    for item in report["out_of_scope"]:
        execution.append(
            {
                "level": "note",
                "message": {"text": f"{item['area']}: {item['statement']}"},
                "descriptor": {"id": "out-of-scope"},
            }
        )
    return config, execution


def to_sarif(
    report: Mapping[str, Any], *, base_uri: str | None = None, single_file: str | None = None
) -> dict[str, Any]:
    """SARIF log of a review report. ``base_uri`` is where the snapshot directory is (a relative path or a
    file URI ending in ``/``); ``single_file`` names the one file of a snapshot read from a bare file."""
    enabled = [c for c in report["checks"] if c.get("enabled", True)]
    index = {c["id"]: i for i, c in enumerate(enabled)}
    findings = [*report["findings"], *report["suppressed"]]
    config_notes, exec_notes = _notifications(report)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": report["tool"]["name"],
                "version": report["tool"]["version"],
                "rules": [_rule(c) for c in enabled],
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolConfigurationNotifications": config_notes,
                "toolExecutionNotifications": exec_notes,
            }
        ],
        "results": [_result(f, index[f["check"]], single_file) for f in findings if f["check"] in index],
        "columnKind": "unicodeCodePoints",
        "properties": {"schema": report["schema"], "as_of": report["as_of"], "summary": report["summary"]},
    }
    if base_uri:
        run["originalUriBaseIds"] = {BASE: {"uri": base_uri}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
