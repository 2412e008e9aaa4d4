"""Decision cases of the evaluation spec §7 (T01-T90), one JSON file per subsection in tests/cases/.

Each document is a simulation document (docs/simulate-format.md) plus test metadata: `name`, `source`
(the AWS page the case encodes), `expected`, optional `expectedBlockedBy` and `expectWarning`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

CASES_DIR = Path(__file__).parent / "cases"
SPEC_CASE_NUMBERS = range(1, 91)  # T01 .. T90
DECISIONS = {"Allowed", "ExplicitlyDenied", "ImplicitlyDenied", "Conditional", "Unknown"}
LAYERS = {"scp", "rcp", "vpce", "identity", "resource", "boundary", "session", "credential"}
ID_PATTERN = re.compile(r"^T(\d{2})([a-z]?)$")


def _load_documents() -> list[tuple[str, dict[str, Any]]]:
    documents: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(CASES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for doc in data if isinstance(data, list) else [data]:
            documents.append((path.name, doc))
    return documents


DOCUMENTS = _load_documents()


def _params() -> list[Any]:
    return [pytest.param(doc, id=str(doc.get("id", f"{fname}[{i}]"))) for i, (fname, doc) in enumerate(DOCUMENTS)]


@pytest.mark.parametrize("doc", _params())
def test_decision_case(doc: dict[str, Any]) -> None:
    from iamgraph.evaluation.document import evaluate_document

    # to_json() is the documented output shape: {"decision", "blocked_by", "warnings", ...}
    out = evaluate_document(doc).to_json()
    detail = f"{doc['id']}: {doc['name']} -> {out['decision']} blocked_by={out['blocked_by']}"
    assert out["decision"] == doc["expected"], detail
    if "expectedBlockedBy" in doc:
        assert set(doc["expectedBlockedBy"]) <= set(out["blocked_by"]), detail
    if doc.get("expectWarning"):
        assert out["warnings"], f"{doc['id']}: a validation warning was expected"


def test_cases_were_found() -> None:
    assert len(DOCUMENTS) >= 90


def test_every_spec_case_is_covered() -> None:
    numbers = set()
    for _, doc in DOCUMENTS:
        match = ID_PATTERN.match(str(doc.get("id", "")))
        if match:
            numbers.add(int(match.group(1)))
    missing = [f"T{n:02d}" for n in SPEC_CASE_NUMBERS if n not in numbers]
    assert not missing, f"spec §7 cases without a decision case: {missing}"


def test_case_documents_are_well_formed() -> None:
    ids: list[str] = []
    problems: list[str] = []
    for fname, doc in DOCUMENTS:
        case_id = str(doc.get("id"))
        ids.append(case_id)
        where = f"{fname}:{case_id}"
        if not ID_PATTERN.match(case_id):
            problems.append(f"{where}: id must look like T04 or T04b")
        for key in ("name", "source", "request", "expected"):
            if not doc.get(key):
                problems.append(f"{where}: missing {key}")
        if doc.get("expected") not in DECISIONS:
            problems.append(f"{where}: unknown expected decision {doc.get('expected')!r}")
        unknown_layers = set(doc.get("expectedBlockedBy", [])) - LAYERS
        if unknown_layers:
            problems.append(f"{where}: unknown layers {sorted(unknown_layers)}")
        request = doc.get("request", {})
        for key in ("principal", "action", "resource"):
            if key not in request:
                problems.append(f"{where}: request.{key} missing")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate case ids: {duplicates}"
    assert not problems, "\n".join(problems)
