"""Immutable model of an AWS Organization as read from a snapshot's organization.json.

Policies are parsed once (kind SCP or RCP). Each account carries its effective SCP and RCP chains,
root first and the account last, in the shape the evaluator takes (``PolicySet.scps``/``rcps``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from iamgraph.model.policy import Policy

if TYPE_CHECKING:
    from iamgraph.evaluation.policyset import OrgLevel

__all__ = ["OrgAccount", "OrgPolicy", "OrgPolicyType", "OrgRoot", "OrgUnit", "Organization"]


class OrgPolicyType(StrEnum):
    """The Organizations policy types that take part in authorization."""

    SCP = "SERVICE_CONTROL_POLICY"
    RCP = "RESOURCE_CONTROL_POLICY"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgRoot:
    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgUnit:
    """An organizational unit; ``parent`` is a root or OU id."""

    id: str
    name: str
    parent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgPolicy:
    """An SCP or RCP with the root, OU and account ids it is attached to."""

    id: str
    name: str
    type: OrgPolicyType
    policy: Policy
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgAccount:
    """A member account.

    ``path`` lists the ids from the root to the account itself. ``scps``/``rcps`` are the chains that
    apply to the account's principals and resources: empty for the management account (which SCPs and
    RCPs never restrict) and when the organization has no policy of that type.
    """

    id: str
    name: str
    parent: str
    path: tuple[str, ...]
    scps: tuple[OrgLevel, ...]
    rcps: tuple[OrgLevel, ...]

    @property
    def root_id(self) -> str:
        return self.path[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class Organization:
    """Roots, OUs, accounts and policies, each keyed by id in file order; ``id`` is o-… when known."""

    management_account: str
    roots: Mapping[str, OrgRoot]
    units: Mapping[str, OrgUnit]
    accounts: Mapping[str, OrgAccount]
    policies: Mapping[str, OrgPolicy]
    id: str | None = None

    def account(self, account_id: str) -> OrgAccount | None:
        return self.accounts.get(account_id)

    def scps_for(self, account_id: str) -> tuple[OrgLevel, ...]:
        """The SCP chain of an account; () for accounts outside the organization."""
        member = self.accounts.get(account_id)
        return member.scps if member is not None else ()

    def rcps_for(self, account_id: str) -> tuple[OrgLevel, ...]:
        member = self.accounts.get(account_id)
        return member.rcps if member is not None else ()

    def policies_attached_to(self, target: str, kind: OrgPolicyType) -> tuple[OrgPolicy, ...]:
        return tuple(p for p in self.policies.values() if p.type is kind and target in p.targets)
