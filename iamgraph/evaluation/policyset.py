"""The policies that take part in one evaluation, grouped by layer."""

from __future__ import annotations

from dataclasses import dataclass, field

from iamgraph.model.policy import Policy

__all__ = ["EngineOptions", "OrgLevel", "PolicySet"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgLevel:
    """The SCPs or RCPs attached at one level (root, an OU, the account)."""

    name: str
    policies: tuple[Policy, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySet:
    identity: tuple[Policy, ...] = ()
    boundaries: tuple[Policy, ...] = ()
    session: tuple[Policy, ...] | None = None  # None: no session policy was passed
    resource: Policy | None = None  # resource policy, role trust policy or KMS key policy
    scps: tuple[OrgLevel, ...] = ()
    rcps: tuple[OrgLevel, ...] = ()
    vpce: tuple[Policy, ...] = ()
    # S3 Block Public Access "RestrictPublicBuckets" is on for the bucket (bucket or account setting):
    # a public bucket policy then serves only AWS service principals and the bucket owner's account.
    s3_restrict_public_buckets: bool = False

    def all_policies(self) -> tuple[Policy, ...]:
        out = [*self.identity, *self.boundaries, *(self.session or ())]
        if self.resource is not None:
            out.append(self.resource)
        for level in (*self.scps, *self.rcps):
            out.extend(level.policies)
        out.extend(self.vpce)
        return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineOptions:
    """Engine decisions that AWS leaves to configuration.

    ``rbp_required_services``: services that, like IAM trust policies and KMS key policies, need an
    explicit resource-policy Allow even within one account (spec §5.3 note).
    ``rcp_services``: services RCPs apply to; None = the catalogue's list.
    """

    rbp_required_services: frozenset[str] = frozenset()
    rcp_services: frozenset[str] | None = None
    flag_unknown_actions: bool = True
    extra: dict[str, str] = field(default_factory=dict)
