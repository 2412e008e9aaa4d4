"""Who asks for what: the requesting principal and the request tuple (spec §1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from iamgraph.errors import InputError
from iamgraph.evaluation.context import Context
from iamgraph.model._fast import fast_constructor

__all__ = ["Principal", "PrincipalKind", "Request", "principal_from_arn"]


class PrincipalKind(StrEnum):
    ROOT = "Root"
    USER = "IAMUser"
    ROLE_SESSION = "RoleSession"
    FEDERATED_USER = "FederatedUserSession"
    SERVICE = "ServicePrincipal"
    WEB_IDENTITY = "FederatedIdentity"  # holder of an OIDC token or SAML assertion (AssumeRoleWith*)
    ANONYMOUS = "Anonymous"


IAM_KINDS = frozenset(
    {PrincipalKind.ROOT, PrincipalKind.USER, PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER}
)
SESSION_KINDS = frozenset({PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER})


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The requester. ``entity_arn`` is the role of a session, or the user behind a federated session."""

    kind: PrincipalKind
    arn: str | None
    partition: str = "aws"
    account: str | None = None
    entity_arn: str | None = None
    unique_id: str | None = None
    session_name: str | None = None
    service: str | None = None
    provider: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    org_id: str | None = None
    org_paths: tuple[str, ...] = ()
    service_linked: bool = False
    has_boundary: bool = False

    @property
    def name(self) -> str | None:
        """User or role name (last path element of the entity ARN)."""
        arn = self.entity_arn or self.arn
        if arn is None or ":" not in arn:
            return None
        return arn.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    principal: Principal
    action: str
    resource: str
    resource_account: str | None
    context: Context = field(default_factory=Context)


_IAM_ARN = re.compile(r"^arn:(?P<part>[\w-]+):(?P<svc>iam|sts)::(?P<acct>\d{12}):(?P<res>.+)$")
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")

# Frozen objects built without the per-field object.__setattr__ of the generated __init__ (model/_fast.py).
new_principal = fast_constructor(Principal)
new_request = fast_constructor(Request)


# Enum members as module constants: on Python 3.11 every ``Enum.MEMBER`` lookup goes through
# EnumType.__getattr__ (~0.3 µs).
_K_ROOT, _K_USER, _K_ROLE_SESSION = PrincipalKind.ROOT, PrincipalKind.USER, PrincipalKind.ROLE_SESSION
_K_FEDERATED_USER, _K_SERVICE = PrincipalKind.FEDERATED_USER, PrincipalKind.SERVICE


def principal_from_arn(value: str, *, session_name: str | None = None, role_arn: str | None = None) -> Principal:
    """Build a principal from an ARN, a 12-digit account id or a service principal name."""
    if not value.startswith("arn:"):
        if _SERVICE.match(value):
            return new_principal(kind=_K_SERVICE, arn=None, service=value)
        if len(value) == 12 and value.isdecimal():  # what the pattern \d{12} accepts
            value = f"arn:aws:iam::{value}:root"
    m = _IAM_ARN.match(value)
    if not m:
        raise InputError(f'"{value}" is not a principal ARN, account id or service principal', element="principal")
    part, svc, acct, res = m.group("part", "svc", "acct", "res")
    if svc == "iam" and res == "root":
        return new_principal(kind=_K_ROOT, arn=value, partition=part, account=acct)
    if svc == "iam" and res.startswith("user/"):
        return new_principal(kind=_K_USER, arn=value, partition=part, account=acct, entity_arn=value)
    if svc == "iam" and res.startswith("role/"):
        name = res.rsplit("/", 1)[-1]
        session = session_name or "session"
        return new_principal(
            kind=_K_ROLE_SESSION,
            partition=part,
            account=acct,
            entity_arn=value,
            arn=f"arn:{part}:sts::{acct}:assumed-role/{name}/{session}",
            session_name=session,
            service_linked=res.startswith("role/aws-service-role/"),
        )
    if svc == "sts" and res.startswith("assumed-role/"):
        bits = res.split("/")
        if len(bits) < 3:
            raise InputError(f'"{value}": an assumed-role ARN needs a role and a session name', element="principal")
        role = role_arn or f"arn:{part}:iam::{acct}:role/{bits[1]}"
        return new_principal(
            kind=_K_ROLE_SESSION,
            arn=value,
            partition=part,
            account=acct,
            entity_arn=role,
            session_name="/".join(bits[2:]),
            service_linked=":role/aws-service-role/" in role,
        )
    if svc == "sts" and res.startswith("federated-user/"):
        return new_principal(kind=_K_FEDERATED_USER, arn=value, partition=part, account=acct)
    raise InputError(f'"{value}" is not a principal that can make requests', element="principal")
