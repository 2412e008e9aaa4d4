"""Matching a requester against Principal / NotPrincipal elements (spec §6).

``match_block`` returns *which* forms matched, because the decision procedure depends on it: a grant to
a user ARN is not limited like a grant to a role ARN or to the whole account.
"""

from __future__ import annotations

import re
from enum import StrEnum

from iamgraph.evaluation.request import IAM_KINDS, Principal, PrincipalKind
from iamgraph.model.policy import PrincipalBlock, StatementRef
from iamgraph.policy.logic import Atom, Expr
from iamgraph.policy.memo import memo

__all__ = ["Form", "match_block", "not_principal_applies"]


class Form(StrEnum):
    USER = "user"
    ROLE = "role"
    SESSION = "session"
    FEDERATED_USER = "federated_user"
    FEDERATING_USER = "federating_user"
    ACCOUNT = "account"
    WILDCARD = "wildcard"
    SERVICE = "service"
    FEDERATED = "federated"
    CANONICAL = "canonical"


_ACCOUNT = re.compile(r"^(?:(\d{12})|arn:([\w-]+):iam::(\d{12}):root)$")
_ENTITY = re.compile(r"^arn:([\w-]+):(iam|sts)::(\d{12}):(user|role|assumed-role|federated-user)/(.+)$")


# Enum members as module constants: on Python 3.11 every ``Enum.MEMBER`` lookup goes through
# EnumType.__getattr__ (~0.3 µs).
_F_USER = Form.USER
_F_ROLE = Form.ROLE
_F_SESSION = Form.SESSION
_F_FEDERATED_USER = Form.FEDERATED_USER
_F_FEDERATING_USER = Form.FEDERATING_USER
_F_ACCOUNT = Form.ACCOUNT
_F_WILDCARD = Form.WILDCARD
_F_SERVICE = Form.SERVICE
_F_FEDERATED = Form.FEDERATED
_K_ROOT = PrincipalKind.ROOT
_K_USER = PrincipalKind.USER
_K_ROLE_SESSION = PrincipalKind.ROLE_SESSION
_K_FEDERATED_USER = PrincipalKind.FEDERATED_USER
_K_SERVICE = PrincipalKind.SERVICE
_K_WEB_IDENTITY = PrincipalKind.WEB_IDENTITY


@memo(maxsize=16384)
def _role_key(arn: str | None) -> tuple[str, str] | None:
    """(account, role name): role names are unique per account, so paths need not agree."""
    if not arn:
        return None
    m = _ENTITY.match(arn)
    if not m or m.group(4) != "role":
        return None
    return m.group(3), m.group(5).rsplit("/", 1)[-1]


@memo(maxsize=16384)
def _entry_shape(entry: str) -> tuple[str, str, str]:
    """``(account, partition, "")`` for an account entry (partition "" for a bare account id),
    ``("", "", kind)`` for a user/role/assumed-role/federated-user ARN, ``("", "", "")`` otherwise."""
    a = _ACCOUNT.match(entry)
    if a:
        return a.group(1) or a.group(3), a.group(2) or "", ""
    m = _ENTITY.match(entry)
    return "", "", m.group(4) if m else ""


def _match_aws(entry: str, p: Principal) -> Form | None:
    acct, part, kind = _entry_shape(entry)
    if acct:
        part = part or p.partition  # a bare account id means that account's root, in its partition
        if p.kind in IAM_KINDS and p.account == acct and p.partition == part:
            return _F_ACCOUNT
        return None
    if p.unique_id and entry == p.unique_id:
        return _F_USER if p.kind is _K_USER else _F_ROLE if p.kind is _K_ROLE_SESSION else None
    if kind == "user":
        if p.kind is _K_USER and p.arn == entry:
            return _F_USER
        if p.kind is _K_FEDERATED_USER and p.entity_arn == entry:
            return _F_FEDERATING_USER
    elif kind == "role":
        if p.kind is _K_ROLE_SESSION and _role_key(entry) == _role_key(p.entity_arn):
            return _F_ROLE
    elif kind == "assumed-role":
        if p.kind is _K_ROLE_SESSION and p.arn == entry:
            return _F_SESSION
    elif kind == "federated-user" and p.kind is _K_FEDERATED_USER and p.arn == entry:
        return _F_FEDERATED_USER
    return None


def match_block(block: PrincipalBlock, p: Principal) -> frozenset[Form]:
    """Every form of ``block`` that names ``p`` (empty: the block does not match)."""
    forms: set[Form] = set()
    if block.wildcard:
        forms.add(_F_WILDCARD)
    for entry in block.aws:
        f = _match_aws(entry, p)
        if f is not None:
            forms.add(f)
    if p.kind is _K_SERVICE and p.service in block.service:
        forms.add(_F_SERVICE)
    if p.kind is _K_WEB_IDENTITY and p.provider in block.federated:
        forms.add(_F_FEDERATED)
    return frozenset(forms)


def _levels(p: Principal) -> list[set[Form]]:
    """The levels AWS may check for ``p``; each must be listed for an exemption (spec §6.4)."""
    if p.kind is _K_ROOT:
        return [{_F_ACCOUNT}]
    if p.kind is _K_USER:
        return [{_F_ACCOUNT}, {_F_USER}]
    if p.kind is _K_ROLE_SESSION:
        return [{_F_ACCOUNT}, {_F_ROLE}, {_F_SESSION}]
    if p.kind is _K_FEDERATED_USER:
        return [{_F_ACCOUNT}, {_F_FEDERATED_USER}]
    if p.kind is _K_SERVICE:
        return [{_F_SERVICE}]
    if p.kind is _K_WEB_IDENTITY:
        return [{_F_FEDERATED}]
    return [set()]  # anonymous: only "*" exempts


def not_principal_applies(block: PrincipalBlock, p: Principal, source: StatementRef) -> Expr:
    """Does a Deny + NotPrincipal statement apply to ``p``?"""
    if block.wildcard:
        return False
    if p.has_boundary and p.kind in IAM_KINDS:
        return True  # documented quirk: NotPrincipal + Deny always denies principals with a boundary
    forms = match_block(block, p)
    # The account entry exempts only the account level (errata 11); a session also needs role + session.
    levels = _levels(p)
    listed = [bool(level & forms) for level in levels]
    if all(listed):
        return False
    if p.kind in (_K_USER, _K_ROLE_SESSION) and listed[-1]:
        return Atom(
            source=source,
            clause=None,
            undecidable=True,
            reason="NotPrincipal lists the principal but not every level above it (account/role); AWS may deny it",
        )
    return True
