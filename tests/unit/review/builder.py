"""A compact builder of review test estates: declare users, roles, policies, resources, credential-report
rows and account.json in Python, write a snapshot directory (docs/snapshot-format.md), load, analyse and
review it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iamgraph.graph.queries import Analysis
from iamgraph.ingest import load_snapshot
from iamgraph.ingest.credential_report import format_credential_report
from iamgraph.review import ReviewConfig, Suppression, review

ACCOUNT = "111122223333"
SIBLING = "222233334444"  # another account of the test organization
VENDOR = "999900001111"  # outside the organization
MANAGEMENT = "555566667777"
AS_OF = datetime(2026, 11, 15, tzinfo=UTC)
ORG_ID = "o-t3storg123"

Doc = dict[str, Any]


def allow(actions: str | list[str], resources: str | list[str] = "*", *, sid: str | None = None, **extra: Any) -> Doc:
    st: Doc = {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}
    if sid:
        st["Sid"] = sid
    return st


def deny(actions: str | list[str], resources: str | list[str] = "*", *, sid: str | None = None, **extra: Any) -> Doc:
    return {**allow(actions, resources, sid=sid, **extra), "Effect": "Deny"}


def doc(*statements: Doc) -> Doc:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def trust(principal: Doc | str, *, action: str = "sts:AssumeRole", sid: str = "Trust", **extra: Any) -> Doc:
    return doc({"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action, **extra})


def iam(kind: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def root(account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:root"


def _id(prefix: str, name: str) -> str:
    return (prefix + "".join(c for c in name.upper() if c.isalnum()))[:21].ljust(21, "0")


@dataclass(frozen=True)
class Key:
    active: bool = True
    rotated: str = "2026-10-01T00:00:00+00:00"
    used: str = "2026-11-10T00:00:00+00:00"
    service: str = "s3"


@dataclass
class Acct:
    """One account of a test estate; inline policies are named ``<entity>-inline``."""

    id: str = ACCOUNT
    users: list[Doc] = field(default_factory=list)
    groups: list[Doc] = field(default_factory=list)
    roles: list[Doc] = field(default_factory=list)
    policies: list[Doc] = field(default_factory=list)
    resources: list[Doc] = field(default_factory=list)
    report: list[dict[str, str]] | None = None
    info: Doc | None = None

    def _inline(self, name: str, statements: tuple[Doc, ...], inline_name: str | None) -> list[Doc]:
        if not statements:
            return []
        return [{"PolicyName": inline_name or f"{name}-inline", "PolicyDocument": doc(*statements)}]

    @staticmethod
    def _attached(managed: tuple[str, ...]) -> list[Doc]:
        return [{"PolicyName": m.rsplit("/", 1)[-1], "PolicyArn": m} for m in managed]

    def user(
        self,
        name: str,
        *statements: Doc,
        groups: tuple[str, ...] = (),
        managed: tuple[str, ...] = (),
        boundary: str | None = None,
        inline_name: str | None = None,
    ) -> str:
        entry: Doc = {
            "Path": "/",
            "UserName": name,
            "UserId": _id("AIDA", name),
            "Arn": iam("user", name, self.id),
            "UserPolicyList": self._inline(name, statements, inline_name),
            "GroupList": list(groups),
            "AttachedManagedPolicies": self._attached(managed),
            "Tags": [],
        }
        if boundary:
            entry["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        self.users.append(entry)
        return str(entry["Arn"])

    def group(self, name: str, *statements: Doc, managed: tuple[str, ...] = ()) -> str:
        entry: Doc = {
            "Path": "/",
            "GroupName": name,
            "GroupId": _id("AGPA", name),
            "Arn": iam("group", name, self.id),
            "GroupPolicyList": self._inline(name, statements, None),
            "AttachedManagedPolicies": self._attached(managed),
        }
        self.groups.append(entry)
        return str(entry["Arn"])

    def role(
        self,
        name: str,
        trust_doc: Doc,
        *statements: Doc,
        managed: tuple[str, ...] = (),
        tags: dict[str, str] | None = None,
        path: str = "/",
    ) -> str:
        role_arn = f"arn:aws:iam::{self.id}:role{path}{name}"
        self.roles.append(
            {
                "Path": path,
                "RoleName": name,
                "RoleId": _id("AROA", name),
                "Arn": role_arn,
                "AssumeRolePolicyDocument": trust_doc,
                "InstanceProfileList": [],
                "RolePolicyList": self._inline(name, statements, None),
                "AttachedManagedPolicies": self._attached(managed),
                "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
            }
        )
        return role_arn

    def managed(self, name: str, document: Doc) -> str:
        policy_arn = f"arn:aws:iam::{self.id}:policy/{name}"
        self.policies.append(
            {
                "PolicyName": name,
                "PolicyId": _id("ANPA", name),
                "Arn": policy_arn,
                "Path": "/",
                "DefaultVersionId": "v1",
                "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
            }
        )
        return policy_arn

    def admin_policy(self) -> str:
        """AWS's AdministratorAccess (an AWS managed policy)."""
        policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
        if not any(p["Arn"] == policy_arn for p in self.policies):
            self.policies.append(
                {
                    "PolicyName": "AdministratorAccess",
                    "PolicyId": "ANPAIWMBCKSKIEE64ZLYK",
                    "Arn": policy_arn,
                    "Path": "/",
                    "DefaultVersionId": "v1",
                    "PolicyVersionList": [{"Document": doc(allow("*")), "VersionId": "v1", "IsDefaultVersion": True}],
                }
            )
        return policy_arn

    def resource(
        self,
        resource_arn: str,
        rtype: str,
        *roles: str,
        policy: Doc | None = None,
        tags: dict[str, str] | None = None,
        properties: Doc | None = None,
    ) -> str:
        self.resources.append(
            {
                "arn": resource_arn,
                "type": rtype,
                "region": "eu-west-1",
                "policy": policy,
                "tags": tags or {},
                "roles": list(roles),
                "properties": properties or {},
            }
        )
        return resource_arn

    def _row(self, values: dict[str, str]) -> None:
        self.report = self.report if self.report is not None else []
        self.report.append(values)

    def credentials(
        self,
        user: str,
        *,
        password: bool = False,
        mfa: bool = False,
        keys: tuple[Key, ...] = (),
        password_used: str = "2026-11-14T00:00:00+00:00",
        password_changed: str = "2026-09-01T00:00:00+00:00",
        created: str = "2024-01-01T00:00:00+00:00",
    ) -> None:
        self._row(
            {
                "user": user,
                "arn": iam("user", user, self.id),
                "user_creation_time": created,
                "password_enabled": "true" if password else "false",
                "password_last_used": password_used if password else "N/A",
                "password_last_changed": password_changed if password else "N/A",
                "mfa_active": "true" if mfa else "false",
                **_keys(keys),
            }
        )

    def root_credentials(
        self, *, mfa: bool = True, keys: tuple[Key, ...] = (), used: str = "2025-01-01T00:00:00+00:00"
    ) -> None:
        self._row(
            {
                "user": "<root_account>",
                "arn": root(self.id),
                "user_creation_time": "2020-01-01T00:00:00+00:00",
                "password_enabled": "not_supported",
                "password_last_used": used,
                "password_last_changed": "not_supported",
                "password_next_rotation": "not_supported",
                "mfa_active": "true" if mfa else "false",
                **_keys(keys),
            }
        )

    def account_info(
        self, *, password_policy: Doc | None = None, summary: Doc | None = None, alias: str | None = None
    ) -> None:
        self.info = {**(self.info or {}), "alias": alias, "password_policy": password_policy, "summary": summary}

    def report_generated(self, when: str | None) -> None:
        """``credential_report_generated`` in account.json (kept beside any other account.json keys)."""
        self.info = {**(self.info or {}), "credential_report_generated": when}

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        details = {
            "UserDetailList": self.users,
            "GroupDetailList": self.groups,
            "RoleDetailList": self.roles,
            "Policies": self.policies,
        }
        (folder / "authorization-details.json").write_text(json.dumps(details))
        if self.resources:
            (folder / "resources.json").write_text(json.dumps({"resources": self.resources}))
        if self.info is not None:
            (folder / "account.json").write_text(json.dumps(self.info))
        if self.report is not None:
            rows = [{"cert_1_active": "false", "cert_2_active": "false", **row} for row in self.report]
            (folder / "credential-report.csv").write_text(format_credential_report(rows))


def _keys(keys: tuple[Key, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for n in (1, 2):
        k = keys[n - 1] if len(keys) >= n else None
        out[f"access_key_{n}_active"] = "true" if k and k.active else "false"
        if k is not None:
            out[f"access_key_{n}_last_rotated"] = k.rotated
            out[f"access_key_{n}_last_used_date"] = k.used or "N/A"
            out[f"access_key_{n}_last_used_service"] = k.service if k.used else "N/A"
            out[f"access_key_{n}_last_used_region"] = "eu-west-1" if k.used else "N/A"
    return out


def organization(*members: str, rcps: tuple[Doc, ...] = ()) -> Doc:
    """organization.json: the management account plus ``members`` under the root, FullAWSAccess, RCPs."""
    accounts = [MANAGEMENT, *members]
    policies: list[Doc] = [
        {
            "id": "p-full",
            "name": "FullAWSAccess",
            "type": "SERVICE_CONTROL_POLICY",
            "document": doc(allow("*")),
            "targets": ["r-root", *accounts],
        },
    ]
    policies += [
        {"id": f"p-rcp{i}", "name": f"Rcp{i}", "type": "RESOURCE_CONTROL_POLICY", "document": d, "targets": ["r-root"]}
        for i, d in enumerate(rcps)
    ]
    return {
        "id": ORG_ID,
        "management_account": MANAGEMENT,
        "roots": [{"id": "r-root"}],
        "organizational_units": [],
        "accounts": [{"id": a, "name": f"acct-{a}", "parent": "r-root"} for a in accounts],
        "policies": policies,
    }


def write(tmp_path: Path, *accounts: Acct, org: Doc | None = None) -> Path:
    """The snapshot directory of an estate."""
    folder = tmp_path / "snapshot"
    for account in accounts:
        account.write(folder / "accounts" / account.id)
    if org is not None:
        (folder / "organization.json").write_text(json.dumps(org))
    return folder


def analyse(tmp_path: Path, *accounts: Acct, org: Doc | None = None) -> Analysis:
    return Analysis.of(load_snapshot(write(tmp_path, *accounts, org=org)))


def run(
    tmp_path: Path,
    *accounts: Acct,
    org: Doc | None = None,
    suppressions: tuple[Suppression, ...] = (),
    as_of: datetime | None = AS_OF,
    **config: Any,
) -> dict[str, Any]:
    """The review JSON of an estate (as of 2026-11-15 unless told otherwise)."""
    settings = ReviewConfig().with_overrides(as_of=as_of, as_of_source="test" if as_of else None, **config)
    return review(analyse(tmp_path, *accounts, org=org), settings, suppressions).to_json()


def of(report: dict[str, Any], check: str) -> list[dict[str, Any]]:
    """The findings (unsuppressed) of one check."""
    return [f for f in report["findings"] if f["check"] == check]


def subjects(report: dict[str, Any], check: str) -> set[str]:
    return {f["subject"] for f in of(report, check)}
