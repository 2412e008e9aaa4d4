"""account.json ``credential_report_generated``: an ISO 8601 UTC time read as an aware datetime; anything
else is one InputError naming the file and the element, and the JSON Schema rejects it too."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from iamgraph.errors import InputError
from iamgraph.ingest import load_snapshot

ACCOUNT = "111122223333"
WHERE = f"accounts/{ACCOUNT}/account.json"
ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "docs" / "schemas" / "account.schema.json"
DEMO = ROOT / "fixtures" / "demo-org"

GOOD: dict[str, datetime | None] = {
    "2026-11-15T08:30:00Z": datetime(2026, 11, 15, 8, 30, tzinfo=UTC),
    "2026-11-15T08:30:00+00:00": datetime(2026, 11, 15, 8, 30, tzinfo=UTC),
    "2026-11-15T08:30:00.250000Z": datetime(2026, 11, 15, 8, 30, 0, 250000, tzinfo=UTC),
}
BAD: dict[str, Any] = {
    "date-only": "2026-11-15",
    "no-zone": "2026-11-15T08:30:00",
    "other-offset": "2026-11-15T09:30:00+01:00",
    "no-seconds": "2026-11-15T08:30Z",
    "no-such-month": "2026-13-01T00:00:00Z",
    "no-such-day": "2026-02-30T00:00:00Z",
    "lowercase-z": "2026-11-15T08:30:00z",
    "words": "yesterday",
    "empty": "",
    "newline": "2026-11-15T08:30:00Z\nlater",
    "number": 1763195400,
    "object": {"time": "2026-11-15T08:30:00Z"},
}


def _snapshot(tmp_path: Path, small: Path, info: dict[str, Any]) -> Path:
    folder = tmp_path / "accounts" / ACCOUNT
    folder.mkdir(parents=True)
    source = small / "single-account" / "accounts" / ACCOUNT / "authorization-details.json"
    shutil.copy(source, folder / "authorization-details.json")
    (folder / "account.json").write_text(json.dumps(info), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("text", "expected"), list(GOOD.items()), ids=list(GOOD))
def test_utc_time_is_read(tmp_path: Path, small: Path, text: str, expected: datetime) -> None:
    account = load_snapshot(_snapshot(tmp_path, small, {"credential_report_generated": text})).accounts[ACCOUNT]
    assert account.credential_report_generated == expected
    assert (
        account.credential_report_generated is not None and account.credential_report_generated.utcoffset() is not None
    )


@pytest.mark.parametrize("info", [{}, {"credential_report_generated": None}], ids=["absent", "null"])
def test_absent_or_null_is_none(tmp_path: Path, small: Path, info: dict[str, Any]) -> None:
    assert load_snapshot(_snapshot(tmp_path, small, info)).accounts[ACCOUNT].credential_report_generated is None


def test_a_bare_file_has_none(small: Path) -> None:
    bare = small / "single-account" / "accounts" / ACCOUNT / "authorization-details.json"
    assert load_snapshot(bare).accounts[ACCOUNT].credential_report_generated is None


@pytest.mark.parametrize("value", list(BAD.values()), ids=list(BAD))
def test_malformed_value_is_one_line_naming_file_and_element(tmp_path: Path, small: Path, value: Any) -> None:
    with pytest.raises(InputError) as caught:
        load_snapshot(_snapshot(tmp_path, small, {"alias": "prod", "credential_report_generated": value}))
    error = caught.value
    assert (error.where, error.element) == (WHERE, "credential_report_generated")
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"{WHERE}: credential_report_generated: ")
    if isinstance(value, str):
        assert "ISO 8601 UTC date-time" in error.reason
    else:
        assert "must be a string" in error.reason


def test_message_shows_the_value(tmp_path: Path, small: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_snapshot(_snapshot(tmp_path, small, {"credential_report_generated": "2026-11-15"}))
    assert str(caught.value) == (
        f'{WHERE}: credential_report_generated: "2026-11-15" is not an ISO 8601 UTC date-time such as '
        "2026-11-15T08:30:00Z"
    )


# ---- the JSON Schema says the same ------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


@pytest.mark.parametrize("text", [*GOOD, None], ids=[*GOOD, "null"])
def test_schema_accepts_what_ingest_accepts(validator: Any, text: str | None) -> None:
    assert validator.is_valid({"credential_report_generated": text})


# two values only a date check rejects: the pattern cannot know month lengths (no format assertion)
_CALENDAR = ("no-such-month", "no-such-day")


@pytest.mark.parametrize("case", [c for c in BAD if c not in _CALENDAR])
def test_schema_rejects_what_ingest_rejects(validator: Any, case: str) -> None:
    assert not validator.is_valid({"credential_report_generated": BAD[case]})


def test_demo_org_records_when_each_report_was_generated(validator: Any) -> None:
    for folder in sorted((DEMO / "accounts").iterdir()):
        doc = json.loads((folder / "account.json").read_text(encoding="utf-8"))
        assert validator.is_valid(doc), folder.name
        if (folder / "credential-report.csv").is_file():
            assert doc["credential_report_generated"].startswith("2026-11-15T"), folder.name
