"""Is a bucket policy "public" in the sense of S3 Block Public Access?

Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage", section "The meaning of
public": S3 starts by assuming a bucket policy is public and then checks whether it qualifies as
non-public. A policy is non-public when every grant is limited to *fixed* values (no wildcard, no policy
variable) of an AWS principal, user, role or service principal (for example through
``aws:PrincipalOrgID``), a set of CIDR blocks in ``aws:SourceIp``, ``aws:SourceArn``, ``aws:SourceVpc``,
``aws:SourceVpce``, ``aws:SourceOwner``, ``aws:SourceAccount``, ``s3:x-amz-server-side-encryption-aws-kms-key-id``,
``aws:userid`` (the ``AROLEID:*`` form counts as fixed), ``s3:DataAccessPointArn`` (a wildcard in the
access point name is allowed when the account is fixed) or ``s3:DataAccessPointAccount``.

So a statement is public when it is an ``Allow`` whose ``Principal`` is ``"*"`` (or ``{"AWS": "*"}``)
and no condition clause pins one of those keys to fixed values. Only clauses that must hold for every
request can pin a key: positive operators without ``IfExists`` and without ``ForAllValues`` (which
holds when the key is absent, e.g. for anonymous callers). Keys that identify the same things as the
listed ones are treated alike (documented by the "for example aws:PrincipalOrgID" wording): the other
principal-identity keys (``aws:PrincipalAccount``, ``aws:PrincipalArn``, ``aws:PrincipalOrgPaths``),
the service-principal keys, and the network-origin keys ``aws:SourceVpcArn``, ``aws:VpceAccount``,
``aws:VpceOrgID``, ``aws:VpceOrgPaths``, ``aws:SourceOrgID``, ``aws:SourceOrgPaths``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from iamgraph.model.policy import ConditionClause, Effect, Policy, Statement

__all__ = ["is_public", "public_statements"]

# Keys whose fixed value names an identity, an account/organization or a network origin.
_EXACT_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourcevpcarn",
        "aws:sourceowner",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:vpceaccount",
        "aws:vpceorgid",
        "aws:principalaccount",
        "aws:principalorgid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:dataaccesspointaccount",
    }
)
# ARN-valued keys: a wildcard is allowed after the account segment when everything up to it is fixed.
_FIXED_ACCOUNT_ARN_KEYS = frozenset({"aws:principalarn", "s3:dataaccesspointarn"})
# Organization paths: a trailing wildcard below a fixed organization id still names that organization.
_ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths", "aws:vpceorgpaths"})
# Keys present only for AWS service principals.
_SERVICE_KEYS = frozenset({"aws:principalservicename", "aws:principalservicenameslist"})
_POSITIVE = frozenset(
    {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress", "Bool"}
)
_WILDCARDS = re.compile(r"[*?]")
_ROLE_SESSIONS = re.compile(r"^[A-Z0-9]+:\*$")  # AROLEID:* -- any session of one role
_ORG_PATH = re.compile(r"^o-[a-z0-9]+/")


def is_public(policy: Policy) -> tuple[bool, list[int]]:
    """``(public, indexes)``: whether S3 would treat the bucket policy as public, and the 0-based indexes
    of the statements that make it public."""
    indexes = public_statements(policy)
    return bool(indexes), indexes


def public_statements(policy: Policy) -> list[int]:
    return [i for i, st in enumerate(policy.statements) if _public(st, policy.variables_enabled)]


def _public(st: Statement, variables: bool) -> bool:
    if st.effect is not Effect.ALLOW or st.principal is None or not st.principal.wildcard:
        return False
    if not st.action_matcher.patterns and not st.action_matcher.negated:
        return False  # an inert statement (invalid element) grants nothing
    return not any(_pins(clause, variables) for clause in st.conditions)


def _pins(clause: ConditionClause, variables: bool) -> bool:
    """Does this clause limit every request that passes it to fixed values of an identifying key?"""
    if clause.if_exists or clause.qualifier == "ForAllValues" or clause.base not in _POSITIVE:
        return False
    values = clause.values
    if variables and any("${" in v for v in values):
        return False
    key = clause.key_lc
    if key == "aws:principalisawsservice":
        return all(v.strip().lower() == "true" for v in values)
    if clause.base == "Bool":
        return False
    if key in _SERVICE_KEYS:
        return True  # only service principals carry these keys, whatever the pattern
    if key in _EXACT_KEYS:
        return _fixed(values)
    if key == "aws:userid":
        return all(not _WILDCARDS.search(v) or _ROLE_SESSIONS.match(v) for v in values)
    if key in _FIXED_ACCOUNT_ARN_KEYS:
        return all(_fixed_account_arn(v) for v in values)
    if key in _ORG_PATH_KEYS:
        return all(_ORG_PATH.match(v) and not _WILDCARDS.search(v.split("/", 1)[0]) for v in values)
    if key == "aws:sourceip":
        return clause.base == "IpAddress" and all(_bounded_cidr(v) for v in values)
    return False


def _fixed(values: Iterable[str]) -> bool:
    return all(v and not _WILDCARDS.search(v) for v in values)


def _fixed_account_arn(value: str) -> bool:
    parts = value.split(":", 5)
    if len(parts) != 6:
        return False
    return not _WILDCARDS.search(":".join(parts[:5]))


def _bounded_cidr(value: str) -> bool:
    """A CIDR block is a fixed value; only a /0 block is as broad as a wildcard (no other bound is documented)."""
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return False
    return network.prefixlen > 0
