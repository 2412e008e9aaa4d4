"""What was read of one account, and its snapshot files (docs/snapshot-format.md).

Filled from many threads while the collection runs; turned into files in one place, where references
are made consistent with the authorization details: a resource's role is named by the ARN IAM gives
it (path included), an instance profile becomes its role, and a role that is not in the authorization
details (created or deleted meanwhile) is dropped with a note instead of making the snapshot unloadable.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = ["AccountData", "ResourceRecord", "dumps", "policy_value", "tags_of"]

AUTHORIZATION_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_INFO_KEYS = ("alias", "password_policy", "summary", "credential_report_generated")  # account.json, in order
_ROLE_ARN = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):role/(.+)$")


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(doc: Any) -> bytes:
    """JSON as the snapshot stores it: dates in ISO 8601, UTF-8, one level of indentation."""
    return json.dumps(doc, default=_default, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def policy_value(raw: Any) -> Any:
    """A policy as AWS returned it: JSON text becomes an object; anything else is kept for ingest to judge."""
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return raw
        return parsed if isinstance(parsed, dict) else raw
    return raw


def tags_of(raw: Any) -> dict[str, str]:
    """Tags in any of AWS's shapes ({k: v}, [{Key, Value}], [{TagKey, TagValue}], [{key, value}])."""
    if isinstance(raw, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    out: dict[str, str] = {}
    for item in raw or ():
        if not isinstance(item, Mapping):
            continue
        for key_name, value_name in (("Key", "Value"), ("TagKey", "TagValue"), ("key", "value")):
            if key_name in item:
                out[str(item[key_name])] = str(item.get(value_name) or "")
                break
    return out


@dataclass(slots=True, kw_only=True)
class ResourceRecord:
    """One future entry of resources.json; ``profiles`` (instance profile ARNs) become roles on writing."""

    arn: str
    type: str
    region: str | None
    policy: Any = None
    tags: dict[str, str] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)

    def to_json(self, roles: list[str]) -> dict[str, Any]:
        properties = {k: v for k, v in self.properties.items() if v is not None}
        if self.unreadable:
            properties["Unreadable"] = sorted(set(self.unreadable))
        return {
            "arn": self.arn,
            "type": self.type,
            "region": self.region,
            "policy": self.policy,
            "tags": self.tags,
            "roles": roles,
            "properties": properties,
        }


class AccountData:
    """Everything read of one account so far; thread-safe."""

    def __init__(self, account_id: str, name: str | None = None) -> None:
        self.id = account_id
        self.name = name
        self._lock = threading.Lock()
        self.authorization: dict[str, Any] | None = None
        self.credential_report: bytes | None = None
        self.info: dict[str, Any] = {}
        self.regions: list[str] = []
        self.written_resources = 0
        self._resources: list[ResourceRecord] = []

    def add(self, records: Iterable[ResourceRecord]) -> None:
        with self._lock:
            self._resources.extend(records)

    def set_info(self, key: str, value: Any) -> None:
        with self._lock:
            self.info[key] = value

    @property
    def resources(self) -> list[ResourceRecord]:
        with self._lock:
            return list(self._resources)

    def files(self, note: Callable[[str], None]) -> dict[str, bytes]:
        """The account's snapshot files; empty when the authorization details were not read (then the
        account cannot be part of the snapshot)."""
        if self.authorization is None:
            return {}
        files = {"authorization-details.json": dumps(self.authorization)}
        entries = self.resource_entries(note)
        self.written_resources = len(entries)
        files["resources.json"] = dumps({"resources": entries})
        if self.credential_report is not None:
            files["credential-report.csv"] = self.credential_report
        info = {key: self.info[key] for key in _INFO_KEYS if key in self.info}
        if info:
            files["account.json"] = dumps(info)
        return files

    def resource_entries(self, note: Callable[[str], None]) -> list[dict[str, Any]]:
        roles, profiles = self._iam_index()
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for record in self.resources:
            if record.arn in seen:
                continue
            seen.add(record.arn)
            resolved: list[str] = []
            for profile in record.profiles:
                found = profiles.get(profile)
                if found is None:
                    note(f"{record.arn}: instance profile {profile} is not in the authorization details")
                resolved.extend(found or ())
            for arn in record.roles:
                role = self._role(arn, roles, record.arn, note)
                if role is not None:
                    resolved.append(role)
            out.append(record.to_json(list(dict.fromkeys(resolved))))
        return out

    def _iam_index(self) -> tuple[dict[str, str], dict[str, list[str]]]:
        """Role ARN by role name; role ARNs by instance profile ARN."""
        roles: dict[str, str] = {}
        profiles: dict[str, list[str]] = {}
        for role in (self.authorization or {}).get("RoleDetailList", ()):
            roles[str(role.get("RoleName"))] = str(role.get("Arn"))
            for profile in role.get("InstanceProfileList") or ():
                arns = profiles.setdefault(str(profile.get("Arn")), [])
                arns.extend(str(r.get("Arn")) for r in profile.get("Roles") or () if r.get("Arn") not in arns)
        return roles, profiles

    def _role(self, arn: str, roles: dict[str, str], resource: str, note: Callable[[str], None]) -> str | None:
        match = _ROLE_ARN.match(arn)
        if match is None:
            note(f"{resource}: {arn} is not an IAM role ARN; left out of its roles")
            return None
        if match.group(1) != self.id:
            return arn  # a role of another account is kept as given
        name = match.group(2).rsplit("/", 1)[-1]
        found = roles.get(name)
        if found is None:
            note(f"{resource}: role {arn} is not in the authorization details (deleted or created meanwhile?)")
        return found
