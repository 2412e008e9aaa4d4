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


def _role_key(arn: str | None) -> tuple[str, str] | None:
    """(account, role name): role names are unique per account, so paths need not agree."""
    if not arn:
        return None
    m = _ENTITY.match(arn)
    if not m or m.group(4) != "role":
        return None
    return m.group(3), m.group(5).rsplit("/", 1)[-1]


def _match_aws(entry: str, p: Principal) -> Form | None:
    a = _ACCOUNT.match(entry)
    if a:
        acct = a.group(1) or a.group(3)
        part = a.group(2) or p.partition  # a bare account id means that account's root, in its partition
        if p.kind in IAM_KINDS and p.account == acct and p.partition == part:
            return Form.ACCOUNT
        return None
    if p.unique_id and entry == p.unique_id:
        return (
            Form.USER if p.kind is PrincipalKind.USER else Form.ROLE if p.kind is PrincipalKind.ROLE_SESSION else None
        )
    m = _ENTITY.match(entry)
    if not m:
        return None
    kind = m.group(4)
    if kind == "user":
        if p.kind is PrincipalKind.USER and p.arn == entry:
            return Form.USER
        if p.kind is PrincipalKind.FEDERATED_USER and p.entity_arn == entry:
            return Form.FEDERATING_USER
    elif kind == "role":
        if p.kind is PrincipalKind.ROLE_SESSION and _role_key(entry) == _role_key(p.entity_arn):
            return Form.ROLE
    elif kind == "assumed-role":
        if p.kind is PrincipalKind.ROLE_SESSION and p.arn == entry:
            return Form.SESSION
    elif kind == "federated-user" and p.kind is PrincipalKind.FEDERATED_USER and p.arn == entry:
        return Form.FEDERATED_USER
    return None


def match_block(block: PrincipalBlock, p: Principal) -> frozenset[Form]:
    """Every form of ``block`` that names ``p`` (empty: the block does not match)."""
    forms: set[Form] = set()
    if block.wildcard:
        forms.add(Form.WILDCARD)
    for entry in block.aws:
        f = _match_aws(entry, p)
        if f is not None:
            forms.add(f)
    if p.kind is PrincipalKind.SERVICE and p.service in block.service:
        forms.add(Form.SERVICE)
    if p.kind is PrincipalKind.WEB_IDENTITY and p.provider in block.federated:
        forms.add(Form.FEDERATED)
    return frozenset(forms)


def _levels(p: Principal) -> list[set[Form]]:
    """The levels AWS may check for ``p``; each must be listed for an exemption (spec §6.4)."""
    if p.kind is PrincipalKind.ROOT:
        return [{Form.ACCOUNT}]
    if p.kind is PrincipalKind.USER:
        return [{Form.ACCOUNT}, {Form.USER}]
    if p.kind is PrincipalKind.ROLE_SESSION:
        return [{Form.ACCOUNT}, {Form.ROLE}, {Form.SESSION}]
    if p.kind is PrincipalKind.FEDERATED_USER:
        return [{Form.ACCOUNT}, {Form.FEDERATED_USER}]
    if p.kind is PrincipalKind.SERVICE:
        return [{Form.SERVICE}]
    if p.kind is PrincipalKind.WEB_IDENTITY:
        return [{Form.FEDERATED}]
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
    if p.kind in (PrincipalKind.USER, PrincipalKind.ROLE_SESSION) and listed[-1]:
        return Atom(
            source=source,
            clause=None,
            undecidable=True,
            reason="NotPrincipal lists the principal but not every level above it (account/role); AWS may deny it",
        )
    return True
