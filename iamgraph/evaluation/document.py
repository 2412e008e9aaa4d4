"""Simulation documents (docs/simulate-format.md): JSON in, Decision out.

Shared by ``iamgraph simulate``, ``POST /simulate`` and the test-suite.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from iamgraph.errors import InputError
from iamgraph.evaluation.context import Context
from iamgraph.evaluation.decision import Decision
from iamgraph.evaluation.engine import evaluate
from iamgraph.evaluation.keys import principal_keys
from iamgraph.evaluation.policyset import OrgLevel, PolicySet
from iamgraph.evaluation.request import (
    Principal,
    PrincipalKind,
    Request,
    new_principal,
    new_request,
    principal_from_arn,
)
from iamgraph.model._fast import fast_constructor
from iamgraph.model.policy import Policy, PolicyKind
from iamgraph.policy.parse import parse_policy

__all__ = ["DocumentResult", "build_request", "evaluate_document", "iter_documents"]

_DOC_KEYS = frozenset(
    {
        "id",
        "name",
        "source",
        "request",
        "identityPolicies",
        "permissionBoundaries",
        "sessionPolicy",
        "resourcePolicy",
        "scps",
        "rcps",
        "vpcEndpointPolicies",
        "principalInfo",
        "unknownKeys",
        "exactContext",
        "expected",
        "expectedBlockedBy",
        "expectWarning",
        "expectedDetail",
        "kind",
        "mode",
        "entryPoint",
        "settings",
        "policyNames",
        "notes",
        "discoveryContextKeyConstraints",
    }
)
_REQUEST_KEYS = frozenset({"principal", "action", "resource", "resourceAccount", "context", "wildcardOnlyAction"})
_SETTINGS_KEYS = {"s3BlockPublicAccess"}
_FEDERATED_ACTIONS = {"sts:assumerolewithwebidentity", "sts:assumerolewithsaml"}

# Enum members as module constants: on Python 3.11 every ``Enum.MEMBER`` lookup goes through
# EnumType.__getattr__ (~0.3 µs).
_IDENTITY, _BOUNDARY, _SESSION, _TRUST = PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.TRUST
_RESOURCE, _SCP, _RCP, _VPCE = PolicyKind.RESOURCE, PolicyKind.SCP, PolicyKind.RCP, PolicyKind.VPCE

# Frozen objects built without the per-field object.__setattr__ of the generated __init__ (model/_fast.py).
_new_policy_set = fast_constructor(PolicySet)
_new_level = fast_constructor(OrgLevel)


@dataclass(frozen=True, slots=True)
class DocumentResult:
    id: str
    decision: Decision

    @property
    def result(self) -> str:
        return self.decision.result.value

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **self.decision.to_json()}


_new_result = fast_constructor(DocumentResult)


def iter_documents(text: str, *, where: str = "input") -> Iterator[tuple[int, Any]]:
    """Documents of a JSON object, a JSON array, or JSON Lines; yields (index, raw)."""
    stripped = text.strip()
    if not stripped:
        return
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        data = None
        for n, line in enumerate(text.splitlines()):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, InputError(f"not valid JSON ({exc.msg})", where=f"{where} line {n + 1}")
        return
    if isinstance(data, list):
        yield from enumerate(data)
    else:
        yield 0, data


def _policy(raw: Any, default: str, kind: PolicyKind) -> Policy:
    """A policy document, or a ``{"name", "document"}`` wrapper around one."""
    if type(raw) is dict and "document" in raw and "Statement" not in raw:
        return parse_policy(raw["document"], name=str(raw.get("name") or default), kind=kind)
    return parse_policy(raw, name=default, kind=kind)


def _policies(raw: Any, element: str, kind: PolicyKind) -> tuple[Policy, ...]:
    if raw is None:
        return ()
    if type(raw) is not list:
        raw = [raw]
    # A plain policy document (the usual case) goes straight to the parser; _policy unwraps the rest.
    return tuple(
        [
            parse_policy(r, name=f"{element}[{i}]", kind=kind)
            if type(r) is dict and "document" not in r
            else _policy(r, f"{element}[{i}]", kind)
            for i, r in enumerate(raw)
        ]
    )


def _levels(raw: Any, element: str, kind: PolicyKind) -> tuple[OrgLevel, ...]:
    if not raw:
        return ()
    if not isinstance(raw, list):
        raise InputError("must be an array of levels", element=element)
    out = []
    for i, level in enumerate(raw):
        if not _is_mapping(level) or "policies" not in level:
            raise InputError('each level needs "policies"', element=f"{element}[{i}]")
        name = str(level.get("orgIdentifier") or f"{element}[{i}]")
        out.append(_new_level(name=name, policies=_policies(level["policies"], f"{element}[{i}].policies", kind)))
    return tuple(out)


def _is_mapping(x: object) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(x, Mapping)`` without the ABC machinery for the usual JSON dict."""
    return type(x) is dict or isinstance(x, Mapping)


def _principal(raw: Any, info: Mapping[str, Any], action: str, has_boundary: bool) -> Principal:
    if type(raw) is not str and isinstance(raw, Mapping):
        kind = str(raw.get("type", "")).lower()
        if kind == "anonymous":
            return Principal(kind=PrincipalKind.ANONYMOUS, arn=None)
        if kind in ("webidentity", "saml", "federated"):
            return Principal(kind=PrincipalKind.WEB_IDENTITY, arn=None, provider=str(raw.get("provider", "")))
        raise InputError(
            'an object principal needs "type": "Anonymous", "WebIdentity" or "SAML"', element="request.principal"
        )
    if not isinstance(raw, str) or not raw:
        raise InputError("missing or not a string", element="request.principal")
    if action in _FEDERATED_ACTIONS and ":iam::" not in raw.replace(":oidc-provider/", "").replace(
        ":saml-provider/", ""
    ):
        return Principal(kind=PrincipalKind.WEB_IDENTITY, arn=None, provider=raw)
    if action in _FEDERATED_ACTIONS and (":oidc-provider/" in raw or ":saml-provider/" in raw):
        return Principal(kind=PrincipalKind.WEB_IDENTITY, arn=None, provider=raw)
    try:
        p = principal_from_arn(raw, session_name=info.get("sessionName"), role_arn=info.get("roleArn"))
    except InputError as exc:
        raise InputError(exc.reason, element="request.principal") from None
    if not info and not has_boundary:
        return p  # nothing to add: the same principal the general case below would build
    tags = dict(info.get("tags") or {})
    tags.update({k: v for k, v in (info.get("sessionTags") or {}).items()})
    return new_principal(
        kind=p.kind,
        arn=p.arn,
        partition=p.partition,
        account=p.account,
        entity_arn=info.get("federatedBy") or p.entity_arn,
        unique_id=info.get("uniqueId"),
        session_name=p.session_name,
        service=p.service,
        provider=p.provider,
        tags=tags,
        org_id=info.get("orgId"),
        org_paths=tuple(info.get("orgPaths") or ()),
        service_linked=bool(info.get("serviceLinked", p.service_linked)),
        has_boundary=has_boundary,
    )


def build_request(doc: Mapping[str, Any], *, exact_context: bool = False) -> tuple[Request, PolicySet]:
    """Turn a document into a request and its policies; raises InputError naming the element."""
    if not _is_mapping(doc):
        raise InputError("a simulation document must be a JSON object")
    if not _DOC_KEYS.issuperset(doc):
        raise InputError("unknown document element", element=sorted(set(doc) - _DOC_KEYS)[0])
    req = doc.get("request")
    if not _is_mapping(req):
        raise InputError("missing or not an object", element="request")
    if not _REQUEST_KEYS.issuperset(req):
        raise InputError("unknown request element", element=f"request.{sorted(set(req) - _REQUEST_KEYS)[0]}")
    action = req.get("action")
    if not isinstance(action, str) or ":" not in action:
        raise InputError('must be "service:Action"', element="request.action")
    resource = req.get("resource", "*")
    if not isinstance(resource, str) or not resource:
        raise InputError("must be an ARN or *", element="request.resource")
    policies = _new_policy_set(
        identity=_policies(doc.get("identityPolicies"), "identityPolicies", _IDENTITY),
        boundaries=_policies(doc.get("permissionBoundaries"), "permissionBoundaries", _BOUNDARY),
        session=(
            _policies(doc["sessionPolicy"], "sessionPolicy", _SESSION) if doc.get("sessionPolicy") is not None else None
        ),
        resource=(
            _policy(
                doc["resourcePolicy"],
                "resourcePolicy",
                _TRUST if action.lower().startswith("sts:") and ":role/" in resource else _RESOURCE,
            )
            if doc.get("resourcePolicy") is not None
            else None
        ),
        scps=_levels(doc.get("scps"), "scps", _SCP),
        rcps=_levels(doc.get("rcps"), "rcps", _RCP),
        vpce=_policies(doc.get("vpcEndpointPolicies"), "vpcEndpointPolicies", _VPCE),
        s3_restrict_public_buckets=_settings(doc.get("settings")),
    )
    info = doc.get("principalInfo") or {}
    if not _is_mapping(info):
        raise InputError("must be an object", element="principalInfo")
    principal = _principal(req.get("principal"), info, action.lower(), bool(policies.boundaries))
    resource_account = req.get("resourceAccount") or _arn_account(resource) or principal.account
    raw_context = req.get("context") or {}
    if not _is_mapping(raw_context):
        raise InputError("must be an object", element="request.context")
    exact = exact_context or bool(doc.get("exactContext"))
    if exact:
        context = Context.build(raw_context, unknown=doc.get("unknownKeys"))
    else:
        derived = principal_keys(principal, resource_account)
        context = Context.build_with_defaults(raw_context, derived, unknown=doc.get("unknownKeys"))
        if context.partial:
            context = Context(context.values, context.unknown, _known_principal_keys())
    return new_request(
        principal=principal,
        action=action,
        resource=resource,
        resource_account=str(resource_account) if resource_account else None,
        context=context,
    ), policies


def _settings(raw: Any) -> bool:
    """``settings``: only ``s3BlockPublicAccess`` (S3 Block Public Access, RestrictPublicBuckets) is known."""
    if raw is None:
        return False
    if not isinstance(raw, Mapping):
        raise InputError("must be an object", element="settings")
    extra = set(raw) - _SETTINGS_KEYS
    if extra:
        raise InputError("unknown setting", element=f"settings.{sorted(extra)[0]}")
    value = raw.get("s3BlockPublicAccess", False)
    if not isinstance(value, bool):
        raise InputError("must be true or false", element="settings.s3BlockPublicAccess")
    return value


def _known_principal_keys() -> Any:
    from iamgraph.evaluation.context import KeyPatterns
    from iamgraph.evaluation.keys import PRINCIPAL_KEY_PATTERNS

    return KeyPatterns.of(PRINCIPAL_KEY_PATTERNS)


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[4].isdigit():
        return parts[4]
    return None


def evaluate_document(doc: Mapping[str, Any], *, index: int = 0, exact_context: bool = False) -> DocumentResult:
    """Evaluate one document; InputError/PolicyError name the document and the element."""
    doc_id = str(doc.get("id", index)) if _is_mapping(doc) else str(index)
    try:
        request, policies = build_request(doc, exact_context=exact_context)
    except InputError as exc:
        where = f"document {index}" + (f" ({doc_id})" if doc_id != str(index) else "")
        element = ".".join(x for x in (exc.where, exc.element) if x)
        raise InputError(exc.reason, where=where, element=element) from None
    return _new_result(id=doc_id, decision=evaluate(request, policies))


def evaluate_documents(docs: Sequence[Mapping[str, Any]]) -> list[DocumentResult]:
    return [evaluate_document(d, index=i) for i, d in enumerate(docs)]
