"""Parse raw policy JSON once into the immutable model (iamgraph.model.policy).

Structural errors raise :class:`PolicyError` naming the policy and the element
(``Statement[2].Condition: unknown operator "StringEqualz"``). Statements that AWS would reject but
whose meaning is "grants nothing" (an Effect of the wrong case, a partial wildcard or a group as a
principal, NotPrincipal with Allow) are kept inert and reported in ``Policy.warnings``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from iamgraph.errors import PolicyError
from iamgraph.model.policy import (
    VERSION_2012,
    ConditionClause,
    Effect,
    Policy,
    PolicyKind,
    PrincipalBlock,
    Statement,
    StatementRef,
)
from iamgraph.policy.conditions.registry import NULL, lookup_operator
from iamgraph.policy.match import ActionMatcher, ResourceMatcher

__all__ = ["parse_policy", "parse_policy_text"]

_VERSIONS = {"2012-10-17", "2008-10-17"}
_POLICY_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
_NO_PRINCIPAL = {PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP}
_NEEDS_PRINCIPAL = {PolicyKind.RESOURCE, PolicyKind.TRUST}
_QUALIFIERS = {"forallvalues": "ForAllValues", "foranyvalue": "ForAnyValue"}
_PRINCIPAL_TYPES = {"AWS", "Service", "Federated", "CanonicalUser"}


class _Ctx:
    """Carries the policy name and collects warnings while parsing."""

    def __init__(self, name: str, kind: PolicyKind) -> None:
        self.name = name
        self.kind = kind
        self.warnings: list[str] = []

    def error(self, element: str, message: str) -> PolicyError:
        return PolicyError(message, policy=self.name, element=element)

    def warn(self, element: str, message: str) -> None:
        self.warnings.append(f"{self.name}: {element}: {message}")


def parse_policy_text(text: str, *, name: str, kind: PolicyKind) -> Policy:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"not valid JSON ({exc.msg} at line {exc.lineno})", policy=name) from None
    return parse_policy(doc, name=name, kind=kind)


def parse_policy(doc: Any, *, name: str, kind: PolicyKind) -> Policy:
    """Parse one policy document of the given layer."""
    ctx = _Ctx(name, kind)
    if type(doc) is str:
        return parse_policy_text(doc, name=name, kind=kind)
    if type(doc) is not dict and not isinstance(doc, Mapping):
        raise ctx.error("", "a policy document must be a JSON object")
    if not _POLICY_KEYS.issuperset(doc):
        raise ctx.error(sorted(set(doc) - _POLICY_KEYS)[0], "unknown policy element")
    version = doc.get("Version")
    if version is not None and version not in _VERSIONS:
        raise ctx.error("Version", f'unsupported version "{version}"')
    if "Statement" not in doc:
        raise ctx.error("Statement", "missing")
    raw_statements = doc["Statement"]
    if type(raw_statements) is not list and isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if type(raw_statements) is not list:
        raise ctx.error("Statement", "must be an object or an array of objects")
    statements = tuple(_statement(ctx, i, raw, version == VERSION_2012) for i, raw in enumerate(raw_statements))
    return Policy(
        name=name,
        kind=kind,
        version=version,
        statements=statements,
        raw=doc if type(doc) is dict else dict(doc),
        warnings=tuple(ctx.warnings),
    )


def _strings(ctx: _Ctx, element: str, value: Any) -> tuple[str, ...]:
    if type(value) is str:
        return (value,)
    if type(value) is list and value and all(type(v) is str for v in value):
        return tuple(value)
    if isinstance(value, str):
        return (str(value),)
    raise ctx.error(element, "must be a string or a non-empty array of strings")


@lru_cache(maxsize=65536)
def _action_matcher(actions: tuple[str, ...], negated: bool) -> ActionMatcher:
    """Matchers are pure functions of their patterns: statements with the same element share one."""
    return ActionMatcher(actions, negated)


@lru_cache(maxsize=65536)
def _resource_matcher(resources: tuple[str, ...], negated: bool, variables: bool) -> ResourceMatcher:
    return ResourceMatcher(resources, negated, variables)


def _statement(ctx: _Ctx, index: int, raw: Any, variables: bool) -> Statement:
    where = f"Statement[{index}]"
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise ctx.error(where, "a statement must be a JSON object")
    if not _STATEMENT_KEYS.issuperset(raw):
        extra = set(raw) - _STATEMENT_KEYS
        raise ctx.error(f"{where}.{sorted(extra)[0]}", "unknown statement element")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise ctx.error(f"{where}.Sid", "must be a string")
    inert = False
    effect_raw = raw.get("Effect")
    if effect_raw not in ("Allow", "Deny"):
        if not isinstance(effect_raw, str) or effect_raw.lower() not in ("allow", "deny"):
            raise ctx.error(f"{where}.Effect", 'must be "Allow" or "Deny"')
        ctx.warn(f"{where}.Effect", f'"{effect_raw}" is not valid (case-sensitive); statement ignored')
        inert = True
    effect = Effect.ALLOW if effect_raw.lower() == "allow" else Effect.DENY
    ref = StatementRef(policy=ctx.name, layer=ctx.kind, index=index, sid=sid, effect=effect)

    principal, not_principal, bad_principal = _principals(ctx, where, raw)
    if not_principal is not None and effect is Effect.ALLOW:
        ctx.warn(f"{where}.NotPrincipal", "NotPrincipal is only supported with Deny; statement ignored")
        inert = True
    inert = inert or bad_principal

    actions_opt, not_action = _pair(ctx, where, raw, "Action", "NotAction", required=True)
    actions = actions_opt or ()
    need_resource = ctx.kind is not PolicyKind.TRUST
    resources, not_resource = _pair(ctx, where, raw, "Resource", "NotResource", required=need_resource)
    conditions = _conditions(ctx, f"{where}.Condition", raw.get("Condition"))
    # An inert statement keeps its data for display but can never match.
    action_matcher = _action_matcher(() if inert else actions, False if inert else not_action)
    resource_matcher = _resource_matcher(resources, not_resource, variables) if resources is not None else None
    return Statement(
        ref=ref,
        principal=principal,
        not_principal=not_principal,
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        conditions=conditions,
        action_matcher=action_matcher,
        resource_matcher=resource_matcher,
        raw=raw if type(raw) is dict else dict(raw),
    )


def _pair(
    ctx: _Ctx, where: str, raw: Mapping[str, Any], pos: str, neg: str, *, required: bool
) -> tuple[tuple[str, ...], bool] | tuple[None, bool]:
    value = raw.get(pos)
    if value is not None and type(value) is str and neg not in raw:
        return (value,), False  # the common case, without building element names
    if pos in raw and neg in raw:
        raise ctx.error(f"{where}.{neg}", f"{pos} and {neg} cannot both be present")
    if pos in raw:
        return _strings(ctx, f"{where}.{pos}", raw[pos]), False
    if neg in raw:
        return _strings(ctx, f"{where}.{neg}", raw[neg]), True
    if required:
        raise ctx.error(f"{where}.{pos}", f"missing (one of {pos}/{neg} is required)")
    return None, False


def _principals(
    ctx: _Ctx, where: str, raw: Mapping[str, Any]
) -> tuple[PrincipalBlock | None, PrincipalBlock | None, bool]:
    has_p, has_np = "Principal" in raw, "NotPrincipal" in raw
    if has_p and has_np:
        raise ctx.error(f"{where}.NotPrincipal", "Principal and NotPrincipal cannot both be present")
    if (has_p or has_np) and ctx.kind in _NO_PRINCIPAL:
        element = "Principal" if has_p else "NotPrincipal"
        raise ctx.error(f"{where}.{element}", f"not allowed in a {ctx.kind.value} policy")
    if has_np and ctx.kind in (PolicyKind.TRUST, PolicyKind.RCP):
        raise ctx.error(f"{where}.NotPrincipal", f"not supported in a {ctx.kind.value} policy")
    if not (has_p or has_np):
        if ctx.kind in _NEEDS_PRINCIPAL:
            raise ctx.error(f"{where}.Principal", f"missing (required in a {ctx.kind.value} policy)")
        return None, None, False
    element = "Principal" if has_p else "NotPrincipal"
    block, bad = _principal_block(ctx, f"{where}.{element}", raw[element])
    return (block, None, bad) if has_p else (None, block, bad)


def _principal_block(ctx: _Ctx, where: str, value: Any) -> tuple[PrincipalBlock, bool]:
    if value == "*":
        return PrincipalBlock(wildcard=True), False
    if not isinstance(value, Mapping) or not value:
        raise ctx.error(where, 'must be "*" or an object of AWS/Service/Federated/CanonicalUser')
    extra = set(value) - _PRINCIPAL_TYPES
    if extra:
        raise ctx.error(f"{where}.{sorted(extra)[0]}", "unknown principal type")
    lists = {k: _strings(ctx, f"{where}.{k}", v) for k, v in value.items()}
    aws = lists.get("AWS", ())
    bad = False
    for entry in aws:
        if entry != "*" and "*" in entry:
            ctx.warn(f"{where}.AWS", f'"{entry}": partial wildcards never match a principal')
        elif ":group/" in entry:
            ctx.warn(f"{where}.AWS", f'"{entry}": groups cannot be principals')
    if "*" in lists.get("Service", ()):
        ctx.warn(f"{where}.Service", '"*" is not allowed as a service principal; it matches nothing')
    wildcard = "*" in aws
    return (
        PrincipalBlock(
            wildcard=wildcard,
            aws=tuple(a for a in aws if a != "*"),
            service=tuple(s for s in lists.get("Service", ()) if s != "*"),
            federated=lists.get("Federated", ()),
            canonical_user=lists.get("CanonicalUser", ()),
        ),
        bad,
    )


def _value_text(ctx: _Ctx, where: str, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return json.dumps(v)
    raise ctx.error(where, "condition values must be strings, numbers or booleans")


def _conditions(ctx: _Ctx, where: str, block: Any) -> tuple[ConditionClause, ...]:
    if block is None:
        return ()
    if type(block) is not dict and not isinstance(block, Mapping):
        raise ctx.error(where, "must be an object of operators")
    clauses: list[ConditionClause] = []
    for operator, keys in block.items():
        qualifier, base, if_exists = _split_operator(ctx, where, operator)
        if (type(keys) is not dict and not isinstance(keys, Mapping)) or not keys:
            raise ctx.error(f"{where}.{operator}", "must be an object of condition keys")
        for key, values in keys.items():
            items = values if isinstance(values, list) else [values]
            if not items:
                raise ctx.error(f"{where}.{operator}.{key}", "no values")
            texts = tuple(_value_text(ctx, f"{where}.{operator}.{key}", v) for v in items)
            clauses.append(
                ConditionClause(
                    operator=operator,
                    base=base,
                    qualifier=qualifier,
                    if_exists=if_exists,
                    key=key,
                    values=texts,
                )
            )
    return tuple(clauses)


def _split_operator(ctx: _Ctx, where: str, operator: Any) -> tuple[str | None, str, bool]:
    if not isinstance(operator, str):
        raise ctx.error(where, "operator names must be strings")
    qualifier = None
    name = operator
    if ":" in operator:
        q, name = operator.split(":", 1)
        qualifier = _QUALIFIERS.get(q.lower())
        if qualifier is None:
            raise ctx.error(where, f'unknown set operator "{q}" in "{operator}"')
    if_exists = name.endswith("IfExists")
    base = name[: -len("IfExists")] if if_exists else name
    if base == NULL:
        if if_exists:
            raise ctx.error(where, '"Null" cannot take the IfExists suffix')
        return qualifier, NULL, False
    spec = lookup_operator(base)
    if spec is None or spec.name != base:
        raise ctx.error(where, f'unknown operator "{operator}"')
    return qualifier, spec.name, if_exists
