"""Frozen, keyword-only data model of policies, principals, requests, organizations and snapshots."""

from iamgraph.model.organization import OrgAccount, Organization, OrgPolicy, OrgPolicyType, OrgRoot, OrgUnit
from iamgraph.model.policy import (
    ConditionClause,
    Effect,
    Policy,
    PolicyKind,
    PrincipalBlock,
    Statement,
    StatementRef,
)
from iamgraph.model.snapshot import (
    Account,
    CredentialReportRow,
    Group,
    InlinePolicy,
    InstanceProfile,
    ManagedPolicy,
    PolicyVersion,
    Resource,
    Role,
    RoleLastUsed,
    Snapshot,
    User,
)

__all__ = [
    "Account",
    "ConditionClause",
    "CredentialReportRow",
    "Effect",
    "Group",
    "InlinePolicy",
    "InstanceProfile",
    "ManagedPolicy",
    "OrgAccount",
    "OrgPolicy",
    "OrgPolicyType",
    "OrgRoot",
    "OrgUnit",
    "Organization",
    "Policy",
    "PolicyKind",
    "PolicyVersion",
    "PrincipalBlock",
    "Resource",
    "Role",
    "RoleLastUsed",
    "Snapshot",
    "Statement",
    "StatementRef",
    "User",
]
