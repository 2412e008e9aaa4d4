"""A tiny builder for test estates: declare users, groups, roles, policies and resources in Python,
write them as a snapshot directory (docs/snapshot-format.md) and load it with load_snapshot."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.build import build_graph
from iamgraph.graph.model import AccessGraph
from iamgraph.ingest import load_snapshot
from iamgraph.model.snapshot import Snapshot

ACCOUNT = "111122223333"
OTHER = "444455556666"
ALL = ("*",)

Doc = dict[str, Any]


def allow(actions: str | list[str], resources: str | list[str] = "*", *, sid: str | None = None, **extra: Any) -> Doc:
    st: Doc = {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}
    if sid:
        st["Sid"] = sid
    return st


def deny(actions: str | list[str], resources: str | list[str] = "*", *, sid: str | None = None, **extra: Any) -> Doc:
    st = allow(actions, resources, sid=sid, **extra)
    st["Effect"] = "Deny"
    return st


def doc(*statements: Doc) -> Doc:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def trust_service(*services: str, sid: str = "TrustService") -> Doc:
    return doc({"Sid": sid, "Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"})


def trust_aws(*arns: str) -> Doc:
    return doc({"Effect": "Allow", "Principal": {"AWS": list(arns)}, "Action": "sts:AssumeRole"})


def arn(kind: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def _id(prefix: str, name: str) -> str:
    return (prefix + name.upper().replace("-", "").replace("/", ""))[:21].ljust(21, "0")


@dataclass
class Account:
    """One account of a test estate; every inline policy is named after its entity."""

    id: str = ACCOUNT
    users: list[Doc] = field(default_factory=list)
    groups: list[Doc] = field(default_factory=list)
    roles: list[Doc] = field(default_factory=list)
    policies: list[Doc] = field(default_factory=list)
    resources: list[Doc] = field(default_factory=list)
    report: list[dict[str, str]] | None = None

    def user(
        self,
        name: str,
        *statements: Doc,
        groups: tuple[str, ...] = (),
        managed: tuple[str, ...] = (),
        boundary: str | None = None,
    ) -> str:
        entry: Doc = {
            "Path": "/",
            "UserName": name,
            "UserId": _id("AIDA", name),
            "Arn": arn("user", name, self.id),
            "UserPolicyList": [{"PolicyName": f"{name}-inline", "PolicyDocument": doc(*statements)}]
            if statements
            else [],
            "GroupList": list(groups),
            "AttachedManagedPolicies": [{"PolicyName": m.rsplit("/", 1)[-1], "PolicyArn": m} for m in managed],
            "Tags": [],
        }
        if boundary:
            entry["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": boundary,
            }
        self.users.append(entry)
        return str(entry["Arn"])

    def group(self, name: str, *statements: Doc, managed: tuple[str, ...] = ()) -> str:
        entry: Doc = {
            "Path": "/",
            "GroupName": name,
            "GroupId": _id("AGPA", name),
            "Arn": arn("group", name, self.id),
            "GroupPolicyList": [{"PolicyName": f"{name}-inline", "PolicyDocument": doc(*statements)}]
            if statements
            else [],
            "AttachedManagedPolicies": [{"PolicyName": m.rsplit("/", 1)[-1], "PolicyArn": m} for m in managed],
        }
        self.groups.append(entry)
        return str(entry["Arn"])

    def role(
        self,
        name: str,
        trust: Doc,
        *statements: Doc,
        managed: tuple[str, ...] = (),
        boundary: str | None = None,
        instance_profile: bool = False,
        path: str = "/",
    ) -> str:
        role_arn = f"arn:aws:iam::{self.id}:role{path}{name}"
        profiles = []
        if instance_profile:
            profiles.append(
                {
                    "Path": "/",
                    "InstanceProfileName": name,
                    "InstanceProfileId": _id("AIPA", name),
                    "Arn": f"arn:aws:iam::{self.id}:instance-profile/{name}",
                    "Roles": [{"Arn": role_arn}],
                }
            )
        entry: Doc = {
            "Path": path,
            "RoleName": name,
            "RoleId": _id("AROA", name),
            "Arn": role_arn,
            "AssumeRolePolicyDocument": trust,
            "InstanceProfileList": profiles,
            "RolePolicyList": [{"PolicyName": f"{name}-inline", "PolicyDocument": doc(*statements)}]
            if statements
            else [],
            "AttachedManagedPolicies": [{"PolicyName": m.rsplit("/", 1)[-1], "PolicyArn": m} for m in managed],
            "Tags": [],
        }
        if boundary:
            entry["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        self.roles.append(entry)
        return role_arn

    def managed(self, name: str, document: Doc, *, others: tuple[Doc, ...] = ()) -> str:
        versions = [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}]
        versions += [{"Document": d, "VersionId": f"v{i + 2}", "IsDefaultVersion": False} for i, d in enumerate(others)]
        policy_arn = f"arn:aws:iam::{self.id}:policy/{name}"
        self.policies.append(
            {
                "PolicyName": name,
                "PolicyId": _id("ANPA", name),
                "Arn": policy_arn,
                "Path": "/",
                "DefaultVersionId": "v1",
                "PolicyVersionList": versions,
            }
        )
        return policy_arn

    def admin_policy(self) -> str:
        """The AWS managed AdministratorAccess policy (added to the file once)."""
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

    def credentials(self, user: str, *, password: bool, mfa: bool = False, keys: int = 0) -> None:
        self.report = self.report or []
        self.report.append(
            {
                "user": user,
                "arn": arn("user", user, self.id),
                "password_enabled": "true" if password else "false",
                "mfa_active": "true" if mfa else "false",
                "access_key_1_active": "true" if keys >= 1 else "false",
                "access_key_2_active": "true" if keys >= 2 else "false",
            }
        )

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
        if self.report is not None:
            self._write_report(folder / "credential-report.csv")

    def _write_report(self, path: Path) -> None:
        columns = [
            "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
            "password_last_changed", "password_next_rotation", "mfa_active", "access_key_1_active",
            "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region",
            "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
            "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
            "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
        ]  # fmt: skip
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, restval="N/A")
            writer.writeheader()
            for row in self.report or []:
                writer.writerow({**row, "user_creation_time": "2024-01-01T00:00:00+00:00"})


def scp_org(scp: Doc, *accounts: str) -> Doc:
    """organization.json: every account directly under the root, FullAWSAccess plus ``scp``."""
    ids = list(accounts)
    full = doc(allow("*"))
    return {
        "management_account": "999988887777",
        "roots": [{"id": "r-root"}],
        "organizational_units": [],
        "accounts": [{"id": "999988887777", "name": "management", "parent": "r-root"}]
        + [{"id": a, "name": f"acct-{a}", "parent": "r-root"} for a in ids],
        "policies": [
            {
                "id": "p-full",
                "name": "FullAWSAccess",
                "type": "SERVICE_CONTROL_POLICY",
                "document": full,
                "targets": ["r-root", "999988887777", *ids],
            },
            {"id": "p-guard", "name": "Guardrail", "type": "SERVICE_CONTROL_POLICY", "document": scp, "targets": ids},
        ],
    }


def load(tmp_path: Path, *accounts: Account, organization: Doc | None = None) -> Snapshot:
    root = tmp_path / "snapshot"
    for account in accounts:
        account.write(root / "accounts" / account.id)
    if organization is not None:
        (root / "organization.json").write_text(json.dumps(organization))
    return load_snapshot(root)


GENERATOR = Path(__file__).resolve().parents[3] / "bench" / "generate.py"


def generated(tmp_path: Path, seed: int, *, principals: int, accounts: int, resources: int) -> Path:
    """A snapshot of bench/generate.py (cross-account trusts, conditions, resource policies) in ``tmp_path``."""
    out = tmp_path / f"generated-{seed}-{principals}-{accounts}-{resources}"
    if not out.exists():
        sizes = ["--principals", str(principals), "--accounts", str(accounts), "--resources", str(resources)]
        run = [sys.executable, str(GENERATOR), *sizes, "--seed", str(seed), "--out", str(out)]
        subprocess.run(run, check=True, capture_output=True)
    return out


def demo_or_generated(tmp_path: Path, seed: int | None, *, principals: int, accounts: int, resources: int) -> Path:
    """The demo organization (``seed`` None), else a generated snapshot: the estates on which a shortcut's
    graph is compared with the graph made without it."""
    if seed is None:
        return Path(__file__).resolve().parents[3] / "fixtures" / "demo-org"
    return generated(tmp_path, seed, principals=principals, accounts=accounts, resources=resources)


def graph(tmp_path: Path, *accounts: Account, organization: Doc | None = None) -> AccessGraph:
    return build_graph(load(tmp_path, *accounts, organization=organization))


def edges(g: AccessGraph, kind: EdgeKind | None = None, technique: str | None = None) -> list[DerivedEdge]:
    return [e for e in g.edges(kind) if technique is None or e.technique == technique]


def one(g: AccessGraph, source: str, target: str, technique: str) -> DerivedEdge:
    found = [e for e in g.edges_between(source, target) if e.technique == technique]
    between = [e.technique for e in g.edges_between(source, target)]
    assert len(found) == 1, f"{technique} {source} -> {target}: {between}"
    return found[0]


def none(g: AccessGraph, source: str, target: str, technique: str | None = None) -> None:
    # technique None: no technique edge; the admin control edges (iamgraph.graph.control) are checked apart
    found = [
        e
        for e in g.edges_between(source, target)
        if e.technique == technique or (not technique and e.technique != "admin")
    ]
    found = [e for e in found if e.kind in (EdgeKind.ESCALATE, EdgeKind.GRANT)]
    assert not found, [e.technique for e in found]


def sids(edge: DerivedEdge) -> set[str | None]:
    return {m.ref.sid for m in edge.proof}


def condition_keys(edge: DerivedEdge) -> set[str]:
    from iamgraph.policy.logic import atoms

    return {a.clause.key for a in atoms(edge.conditions) if a.clause is not None}
