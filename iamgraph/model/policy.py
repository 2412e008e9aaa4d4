"""Immutable model of a parsed IAM policy document (see iamgraph.policy.parse)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from iamgraph.model._fast import fast_pickle

if TYPE_CHECKING:
    from iamgraph.policy.match import ActionMatcher, ResourceMatcher

__all__ = [
    "ConditionClause",
    "Effect",
    "Policy",
    "PolicyKind",
    "PrincipalBlock",
    "Statement",
    "StatementRef",
]

VERSION_2012 = "2012-10-17"


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyKind(StrEnum):
    """The layer a policy takes part in; it decides which elements are allowed."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"
    RCP = "rcp"
    VPCE = "vpce"


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionClause:
    """One operator/key pair of a Condition block, values normalised to strings."""

    operator: str
    base: str
    qualifier: str | None
    if_exists: bool
    key: str
    values: tuple[str, ...]

    @property
    def key_lc(self) -> str:
        return self.key.lower()

    def to_json(self) -> dict[str, Any]:
        return {"operator": self.operator, "key": self.key, "values": list(self.values)}


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class PrincipalBlock:
    """A Principal or NotPrincipal element; ``wildcard`` is the ``"*"`` / ``{"AWS": "*"}`` form."""

    wildcard: bool = False
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class StatementRef:
    """Where a statement comes from: enough to show it as proof."""

    policy: str
    layer: PolicyKind
    index: int
    sid: str | None
    effect: Effect

    @property
    def label(self) -> str:
        return self.sid if self.sid else f"Statement[{self.index}]"

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer._value_,
            "policy": self.policy,
            "sid": self.sid,
            "index": self.index,
            "effect": self.effect._value_,
        }


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One statement; Action/Resource lists are stored once, with their compiled matchers."""

    ref: StatementRef
    principal: PrincipalBlock | None
    not_principal: PrincipalBlock | None
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None
    not_resource: bool
    conditions: tuple[ConditionClause, ...]
    action_matcher: ActionMatcher = field(compare=False, repr=False)
    resource_matcher: ResourceMatcher | None = field(compare=False, repr=False)
    raw: dict[str, Any] = field(compare=False, repr=False, hash=False)

    @property
    def effect(self) -> Effect:
        return self.ref.effect

    @property
    def sid(self) -> str | None:
        return self.ref.sid


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """A parsed policy document of one layer."""

    name: str
    kind: PolicyKind
    version: str | None
    statements: tuple[Statement, ...]
    raw: dict[str, Any] = field(compare=False, repr=False, hash=False)
    warnings: tuple[str, ...] = ()

    @property
    def variables_enabled(self) -> bool:
        """Policy variables are recognised only under Version 2012-10-17."""
        return self.version == VERSION_2012
