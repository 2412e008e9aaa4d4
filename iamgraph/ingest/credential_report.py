"""credential-report.csv: ``aws iam get-credential-report`` content, base64-decoded, read with csv.

The columns AWS documents are required (see docs/snapshot-format.md); columns AWS may add later are
kept in ``CredentialReportRow.columns``. ``format_credential_report`` writes one (for tests and benchmarks).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from iamgraph.errors import InputError
from iamgraph.model.snapshot import CredentialReportRow

__all__ = ["COLUMNS", "format_credential_report", "read_credential_report"]

COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)
_BOOLS = {"true": True, "false": False}


def read_credential_report(path: Path, *, where: str, account_id: str) -> tuple[CredentialReportRow, ...]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _rows(csv.DictReader(handle, strict=True), where, account_id)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", where=where) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=where) from None
    except csv.Error as exc:
        raise InputError(f"not valid CSV ({exc})", where=where) from None


def format_credential_report(rows: Iterable[Mapping[str, str]], *, missing: str = "N/A") -> str:
    """A report as CSV text: the header ``COLUMNS``, then a line a row (``missing`` where a row has no value)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval=missing, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _rows(reader: csv.DictReader[str], where: str, account_id: str) -> tuple[CredentialReportRow, ...]:
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", where=where, element="line 1")
    rows = []
    for raw in reader:
        line = f"line {reader.line_num}"
        if None in raw or any(v is None for v in raw.values()):
            raise InputError(f"number of fields differs from the header's {len(header)}", where=where, element=line)
        arn = raw["arn"]
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[4] != account_id:
            raise InputError(f"{arn} is not an ARN of account {account_id}", where=where, element=f"{line}, column arn")
        rows.append(
            CredentialReportRow(
                user=raw["user"],
                arn=arn,
                password_enabled=_password_enabled(raw, where, line),
                mfa_active=_bool(raw, "mfa_active", where, line),
                access_keys_active=(
                    _bool(raw, "access_key_1_active", where, line),
                    _bool(raw, "access_key_2_active", where, line),
                ),
                columns=dict(raw),
            )
        )
    return tuple(rows)


def _bool(raw: dict[str, str], column: str, where: str, line: str) -> bool:
    value = _BOOLS.get(raw[column].lower())
    if value is None:
        raise InputError(f'"{raw[column]}" is not true or false', where=where, element=f"{line}, column {column}")
    return value


def _password_enabled(raw: dict[str, str], where: str, line: str) -> bool | None:
    """None for the root user's row, where AWS writes "not_supported"."""
    return None if raw["password_enabled"] == "not_supported" else _bool(raw, "password_enabled", where, line)
