"""Immutable model of a snapshot: accounts with their IAM principals, policies and resources.

Built by :mod:`iamgraph.ingest`; every policy is already parsed (iamgraph.model.policy.Policy) and
every reference already resolved, so nothing downstream re-reads or re-checks the input. Mappings are
keyed by ARN (accounts by id) in file order. Policy names, which proofs show:

- managed policy: its ARN (kind IDENTITY; kind BOUNDARY as well when used as a boundary);
- inline policy: ``<entity ARN>/inline/<PolicyName>`` (kind IDENTITY);
- role trust policy: the role ARN (kind TRUST); resource policy: the resource ARN (kind RESOURCE).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from iamgraph.model.organization import Organization
from iamgraph.model.policy import Policy

__all__ = [
    "Account",
    "CredentialReportRow",
    "Group",
    "InlinePolicy",
    "InstanceProfile",
    "ManagedPolicy",
    "PolicyVersion",
    "Resource",
    "Role",
    "RoleLastUsed",
    "Snapshot",
    "User",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class InlinePolicy:
    name: str
    policy: Policy


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyVersion:
    """A non-default managed policy version: kept unparsed (it grants nothing until made default)."""

    version_id: str
    create_date: str | None
    document: Mapping[str, Any] = field(compare=False, hash=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedPolicy:
    """A managed policy; ``policy`` is its default version, ``boundary`` the same parsed as a boundary."""

    arn: str
    name: str
    id: str
    path: str
    default_version_id: str
    policy: Policy
    boundary: Policy | None
    other_versions: tuple[PolicyVersion, ...]
    attachment_count: int | None
    is_attachable: bool | None
    description: str | None
    create_date: str | None
    update_date: str | None

    @property
    def aws_managed(self) -> bool:
        return self.arn.split(":")[4] == "aws"


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    arn: str
    name: str
    id: str
    path: str
    create_date: str | None
    tags: Mapping[str, str] = field(hash=False)
    group_arns: tuple[str, ...]
    inline_policies: tuple[InlinePolicy, ...]
    attached_policy_arns: tuple[str, ...]
    boundary_arn: str | None
    boundary: Policy | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    arn: str
    name: str
    id: str
    path: str
    create_date: str | None
    member_arns: tuple[str, ...]
    inline_policies: tuple[InlinePolicy, ...]
    attached_policy_arns: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleLastUsed:
    date: str | None
    region: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Role:
    arn: str
    name: str
    id: str
    path: str
    create_date: str | None
    tags: Mapping[str, str] = field(hash=False)
    trust_policy: Policy
    inline_policies: tuple[InlinePolicy, ...]
    attached_policy_arns: tuple[str, ...]
    boundary_arn: str | None
    boundary: Policy | None
    instance_profile_arns: tuple[str, ...]
    last_used: RoleLastUsed | None

    @property
    def service_linked(self) -> bool:
        return self.path.startswith("/aws-service-role/")


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceProfile:
    arn: str
    name: str
    id: str
    path: str
    create_date: str | None
    role_arns: tuple[str, ...]
    tags: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """One entry of resources.json; ``role_arns``: roles whose credentials the resource runs with."""

    arn: str
    type: str
    region: str | None
    policy: Policy | None
    tags: Mapping[str, str] = field(hash=False)
    role_arns: tuple[str, ...]
    properties: Mapping[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialReportRow:
    """One row of the credential report; ``columns`` holds every column as AWS wrote it."""

    user: str
    arn: str
    password_enabled: bool | None  # None: "not_supported" (the root user row)
    mfa_active: bool
    access_keys_active: tuple[bool, bool]
    columns: Mapping[str, str] = field(hash=False, repr=False)

    @property
    def is_root(self) -> bool:
        return self.arn.endswith(":root")


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """One account's IAM data (authorization details) plus its optional companion files."""

    id: str
    alias: str | None
    users: Mapping[str, User]
    groups: Mapping[str, Group]
    roles: Mapping[str, Role]
    managed_policies: Mapping[str, ManagedPolicy]
    instance_profiles: Mapping[str, InstanceProfile]
    resources: Mapping[str, Resource]
    credential_report: tuple[CredentialReportRow, ...] | None
    credential_report_generated: datetime | None = None  # GeneratedTime of the report, UTC (account.json)
    password_policy: Mapping[str, Any] | None
    summary: Mapping[str, Any] | None
    warnings: tuple[str, ...] = ()

    def identity_policies(self, arn: str) -> tuple[Policy, ...]:
        """Inline then attached policies of a user (with its groups'), group or role; KeyError if unknown."""
        if arn in self.users:
            user = self.users[arn]
            own = self._policies(user.inline_policies, user.attached_policy_arns)
            for group_arn in user.group_arns:
                group = self.groups[group_arn]
                own += self._policies(group.inline_policies, group.attached_policy_arns)
            return own
        entity = self.roles.get(arn) or self.groups.get(arn)
        if entity is None:
            raise KeyError(arn)
        return self._policies(entity.inline_policies, entity.attached_policy_arns)

    def _policies(self, inline: tuple[InlinePolicy, ...], attached: tuple[str, ...]) -> tuple[Policy, ...]:
        return tuple(p.policy for p in inline) + tuple(self.managed_policies[a].policy for a in attached)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """Everything read from one snapshot directory (or one bare authorization-details file)."""

    accounts: Mapping[str, Account]
    organization: Organization | None = None
    warnings: tuple[str, ...] = ()  # statements that grant nothing, each naming file and element

    def account_of(self, arn: str) -> Account | None:
        """The snapshot account an ARN belongs to (by its account field), if any."""
        parts = arn.split(":", 5)
        return self.accounts.get(parts[4]) if len(parts) == 6 else None
