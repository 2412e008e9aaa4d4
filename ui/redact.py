"""Stable pseudonyms for account ids, organization ids and estate names in view data (``viz --redact``).

Every string of the view goes through one mapping, so an ARN reads the same in a node, in a proof and
inside a statement's JSON. Pseudonyms are an HMAC of the real value: the same key gives the same
pseudonyms in every file (pass ``--redact-key`` to correlate files), and without the key they cannot be
reversed by trying likely names. What is replaced:

- 12-digit account ids anywhere, organization, root and OU ids;
- names taken from the snapshot: account aliases and names, users, groups, roles, instance profiles,
  customer managed and inline policy names, SCP/RCP names, path segments, resource names (the parts of a
  resource ARN after its type), SAML provider names and tag values;
- any extra terms the caller names.

AWS vocabulary stays readable: actions, condition operators and keys, effects, AWS managed policies,
service names, AWS-defined role names (``OrganizationAccountAccessRole``, ``AWSServiceRoleFor…``) and
public OIDC provider hosts. Sids are kept: they explain a proof. Free text that is none of the above
(e.g. a GitHub organization inside an OIDC ``sub`` condition) is kept unless given as an extra term.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from iamgraph.catalog import get_catalog
from iamgraph.graph.queries import Analysis

__all__ = ["Redactor"]

_RUN = re.compile(r"[\w+=,.@-]+")
_SEP = re.compile(r"([+=,.@])")
_ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_ORG_IDS = re.compile(r"\b(?:o-[a-z0-9]{10,32}|ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})\b")

# Fields whose values are vocabulary (kinds, layers, actions, operators...) or Sids: never rewritten.
_KEEP_FIELDS = frozenset(
    {
        "kind",
        "layer",
        "effect",
        "Effect",
        "technique",
        "operator",
        "resource_type",
        "admin_via",
        "format",
        "assume_unknown",
        "what",
        "emphasis",
        "actions",
        "Action",
        "NotAction",
        "Version",
        "sid",
        "Sid",
        "holds",
        "access",
    }
)
_AWS_WORDS = frozenset(
    {
        "Version",
        "Statement",
        "Sid",
        "Effect",
        "Allow",
        "Deny",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
        "AWS",
        "Service",
        "Federated",
        "CanonicalUser",
        "aws",
        "true",
        "false",
        "inline",
        "root",
        "OrganizationAccountAccessRole",
        "FullAWSAccess",
        "RCPFullAWSAccess",
        "service-role",
        "aws-service-role",
        "aws-reserved",
        "function",
        "secret",
        "key",
        "alias",
        "table",
        "instance",
        "project",
        "stack",
        "trail",
        "user",
        "role",
        "group",
        "policy",
        "instance-profile",
        "saml-provider",
        "oidc-provider",
        "mfa",
        "assumed-role",
        "federated-user",
        "document",
        "parameter",
        "repository",
        "queue",
        "topic",
        "bucket",
        "layer",
        "event-bus",
        "rule",
        "cluster",
        "service",
        "task",
        "task-definition",
        "notebook-instance",
        "devendpoint",
        "AWSLogs",
        "anyone",
    }
)
_CATEGORY_ORDER = (
    "account",
    "user",
    "role",
    "group",
    "profile",
    "policy",
    "resource",
    "provider",
    "path",
    "tag",
    "term",
)


def _resource_parts(arn: str) -> list[str]:
    """The name parts of a resource ARN: its resource field without the leading type (``function:``...)."""
    fields = arn.split(":", 5)
    if len(fields) < 6:
        return [arn]
    parts = [p for p in re.split(r"[/:]", fields[5]) if p]
    return parts[1:] if len(parts) > 1 else parts


def _path_parts(path: str | None) -> list[str]:
    return [p for p in (path or "").split("/") if p]


class Redactor:
    """Maps strings to pseudonyms consistently; ``value`` rewrites a whole JSON value."""

    def __init__(self, names: dict[str, str], *, key: bytes | None = None) -> None:
        self.key = key if key is not None else os.urandom(32)
        self.services = get_catalog().services()
        self.names = {n: c for n, c in names.items() if len(n) >= 3 and n not in _AWS_WORDS}
        self._memo: dict[str, str] = {}
        self._taken: dict[str, str] = {}

    @classmethod
    def for_analysis(cls, analysis: Analysis, *, key: bytes | None = None, terms: Iterable[str] = ()) -> Redactor:
        """A redactor knowing every name of the analysed snapshot (plus ``terms``)."""
        found: dict[str, set[str]] = {}

        def add(category: str, values: Iterable[str | None]) -> None:
            for v in values:
                if v:
                    found.setdefault(category, set()).add(v)

        snap = analysis.snapshot
        org = snap.organization
        if org is not None:
            add("account", (a.name for a in org.accounts.values()))
            add("account", (u.name for u in org.units.values()))
            add("policy", (p.name for p in org.policies.values()))
        for account in snap.accounts.values():
            add("account", [account.alias])
            for u in account.users.values():
                add("user", [u.name])
                add("path", _path_parts(u.path))
                add("tag", u.tags.values())
                add("policy", (p.name for p in u.inline_policies))
            for g in account.groups.values():
                add("group", [g.name])
                add("path", _path_parts(g.path))
                add("policy", (p.name for p in g.inline_policies))
            for r in account.roles.values():
                if r.service_linked or r.name.startswith("AWSServiceRoleFor"):
                    continue
                add("role", [r.name])
                add("path", _path_parts(r.path))
                add("tag", r.tags.values())
                add("policy", (p.name for p in r.inline_policies))
            for ip in account.instance_profiles.values():
                add("profile", [ip.name])
                add("path", _path_parts(ip.path))
                add("tag", ip.tags.values())
            for mp in account.managed_policies.values():
                if not mp.aws_managed:
                    add("policy", [mp.name])
                    add("path", _path_parts(mp.path))
            for res in account.resources.values():
                add("tag", res.tags.values())
                if res.type == "AWS::IAM::OIDCProvider":
                    continue  # a public IdP host (token.actions.githubusercontent.com): not the estate's secret
                add("provider" if res.type == "AWS::IAM::SAMLProvider" else "resource", _resource_parts(res.arn))
        add("term", terms)
        names: dict[str, str] = {}
        for category in _CATEGORY_ORDER:
            for n in sorted(found.get(category, ())):
                names.setdefault(n, category)
        return cls(names, key=key)

    def _digest(self, value: str) -> str:
        return hmac.new(self.key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def _pseudonym(self, value: str, make: Callable[[str], str]) -> str:
        """The pseudonym of a value; on a (rare) collision the digest is lengthened until it is unique."""
        if value in self._memo:
            return self._memo[value]
        digest = self._digest(value)
        for length in range(10, len(digest) + 1, 2):
            out = make(digest[:length])
            if self._taken.setdefault(out, value) == value:
                self._memo[value] = out
                return out
        raise AssertionError("sha256 collision")  # pragma: no cover

    def _name(self, token: str) -> str:
        category = self.names[token]
        return self._pseudonym(token, lambda d: f"{category}-{d}")

    def _run(self, m: re.Match[str]) -> str:
        token = m.group(0)
        if token in self.services and m.string.startswith(":", m.end()):
            return token  # a service prefix: "lambda:InvokeFunction", "arn:aws:lambda:...", "kms:ViaService"
        if token in self.names:
            return self._name(token)
        parts = _SEP.split(token)
        if len(parts) == 1:
            return token
        return "".join(self._name(p) if p in self.names else p for p in parts)

    def _org_id(self, m: re.Match[str]) -> str:
        real = m.group(0)
        if real.startswith("ou-"):
            return self._pseudonym(real, lambda d: f"ou-{d[:4]}-{d[4:]}")
        prefix = real.split("-", 1)[0]
        return self._pseudonym(real, lambda d: f"{prefix}-{d}")

    def text(self, s: str) -> str:
        """One string with every known name, account id and organization id replaced."""
        s = _RUN.sub(self._run, s)
        s = _ORG_IDS.sub(self._org_id, s)
        return _ACCOUNT.sub(lambda m: self._pseudonym(m.group(0), lambda d: f"acct-{d}"), s)

    def value(self, v: Any, field: str | None = None) -> Any:
        """A JSON value with every string rewritten, except under vocabulary fields; keys are kept."""
        if isinstance(v, str):
            return v if field in _KEEP_FIELDS else self.text(v)
        if isinstance(v, dict):
            if field == "tags":  # tag keys are kept (conditions name them), every value is rewritten
                return {k: self.text(x) if isinstance(x, str) else self.value(x) for k, x in v.items()}
            return {k: self.value(x, k) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [self.value(x, field) for x in v]
        return v
