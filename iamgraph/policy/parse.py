"""Parse raw policy JSON once into the immutable model (iamgraph.model.policy).

Structural errors raise :class:`PolicyError` naming the policy and the element
(``Statement[2].Condition: unknown operator "StringEqualz"``). Statements that AWS would reject but
whose meaning is "grants nothing" (an Effect of the wrong case, a partial wildcard or a group as a
principal, NotPrincipal with Allow) are kept inert and reported in ``Policy.warnings``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from iamgraph.errors import PolicyError
from iamgraph.model._fast import fast_constructor, slots_twin
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
from iamgraph.policy.memo import memo

__all__ = ["parse_policy", "parse_policy_text"]

_VERSIONS = {"2012-10-17", "2008-10-17"}
_POLICY_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {
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
)
_PLAIN_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "Resource", "Condition"})
_NO_PRINCIPAL = {PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP}
_QUALIFIERS = {"forallvalues": "ForAllValues", "foranyvalue": "ForAnyValue"}
_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})

# Enum members as module constants: on Python 3.11 every ``Enum.MEMBER`` lookup goes through
# EnumType.__getattr__ (~0.3 µs), and these are read for every statement.
_ALLOW, _DENY = Effect.ALLOW, Effect.DENY
_RESOURCE, _TRUST = PolicyKind.RESOURCE, PolicyKind.TRUST

# Frozen model objects built without the per-field object.__setattr__ of their generated __init__
# (model/_fast.py). Policies, statements and their refs -- three objects per statement -- are filled
# in place on twins of their classes; every field is set before the twin becomes the model class.
_PolicySlots = slots_twin(Policy)
_StatementSlots = slots_twin(Statement)
_RefSlots = slots_twin(StatementRef)
_new_clause = fast_constructor(ConditionClause)
_new_principal_block = fast_constructor(PrincipalBlock)


class _Ctx:
    """Carries the policy name and layer and collects warnings while parsing."""

    __slots__ = ("kind", "name", "needs_principal", "warnings")

    def __init__(self, name: str, kind: PolicyKind) -> None:
        self.name = name
        self.kind = kind
        self.needs_principal = kind is _RESOURCE or kind is _TRUST  # identity tests: enum members hash slowly
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
    if type(doc) is not dict:
        if type(doc) is str:
            return parse_policy_text(doc, name=name, kind=kind)
        if not isinstance(doc, Mapping):
            raise PolicyError("a policy document must be a JSON object", policy=name)
        doc = dict(doc)  # the model keeps a plain dict
    ctx = _Ctx(name, kind)
    if not _POLICY_KEYS.issuperset(doc):
        raise ctx.error(sorted(set(doc) - _POLICY_KEYS)[0], "unknown policy element")
    version = doc.get("Version")
    if version is not None and version not in _VERSIONS:
        raise ctx.error("Version", f'unsupported version "{version}"')
    raw_statements = doc.get("Statement", _MISSING)
    if type(raw_statements) is not list:
        if raw_statements is _MISSING:
            raise ctx.error("Statement", "missing")
        if not isinstance(raw_statements, Mapping):
            raise ctx.error("Statement", "must be an object or an array of objects")
        raw_statements = [raw_statements]
    variables = version == VERSION_2012
    if len(raw_statements) == 1:  # the usual single statement, without a comprehension
        statements: tuple[Statement, ...] = (_statement(ctx, 0, raw_statements[0], variables),)
    else:
        statements = tuple([_statement(ctx, i, raw, variables) for i, raw in enumerate(raw_statements)])
    policy = _PolicySlots()
    policy.name = name
    policy.kind = kind
    policy.version = version
    policy.statements = statements
    policy.raw = doc
    policy.warnings = tuple(ctx.warnings)
    policy.__class__ = Policy
    return policy  # type: ignore[no-any-return]  # a Policy now


_MISSING: Any = object()
_STR = frozenset({str})


def _strings(ctx: _Ctx, element: str, value: Any) -> tuple[str, ...]:
    if type(value) is str:
        return (value,)
    if type(value) is list:
        if value and _STR.issuperset(map(type, value)):
            return tuple(value)
    elif isinstance(value, str):
        return (str(value),)
    raise ctx.error(element, "must be a string or a non-empty array of strings")


@memo()
def _action_matcher(actions: tuple[str, ...], negated: bool) -> ActionMatcher:
    """Matchers are pure functions of their patterns: statements with the same element share one (and
    its answers per action name)."""
    return ActionMatcher(actions, negated)


@memo()
def _resource_matcher(resources: tuple[str, ...], negated: bool, variables: bool) -> ResourceMatcher:
    return ResourceMatcher(resources, negated, variables)


def _statement(ctx: _Ctx, index: int, raw: Any, variables: bool) -> Statement:
    if type(raw) is not dict:
        if not isinstance(raw, Mapping):
            raise ctx.error(f"Statement[{index}]", "a statement must be a JSON object")
        raw = dict(raw)  # the model keeps a plain dict
    # The usual shape (no Principal, no Not* element) skips the checks that only the others need.
    plain = _PLAIN_STATEMENT_KEYS.issuperset(raw)
    if not plain and not _STATEMENT_KEYS.issuperset(raw):
        extra = set(raw) - _STATEMENT_KEYS
        raise ctx.error(f"Statement[{index}].{sorted(extra)[0]}", "unknown statement element")
    get = raw.get
    sid = get("Sid")
    if sid is not None and type(sid) is not str and not isinstance(sid, str):
        raise ctx.error(f"Statement[{index}].Sid", "must be a string")
    effect_raw = get("Effect")
    inert = False
    if effect_raw == "Allow":
        effect = _ALLOW
    elif effect_raw == "Deny":
        effect = _DENY
    else:
        effect = _odd_effect(ctx, index, effect_raw)
        inert = True
    ref = _RefSlots()
    ref.policy = ctx.name
    ref.layer = ctx.kind
    ref.index = index
    ref.sid = sid
    ref.effect = effect
    ref.__class__ = StatementRef

    principal = not_principal = None
    if not plain and ("Principal" in raw or "NotPrincipal" in raw):
        principal, not_principal = _principals(ctx, f"Statement[{index}]", raw)
        if not_principal is not None and effect is _ALLOW:
            ctx.warn(f"Statement[{index}].NotPrincipal", "NotPrincipal is only supported with Deny; statement ignored")
            inert = True
    elif ctx.needs_principal:
        raise ctx.error(f"Statement[{index}].Principal", f"missing (required in a {ctx.kind.value} policy)")

    # Action / Resource: a string or a non-empty list of strings without its Not* twin is the common
    # case; anything else (absent, paired, invalid) goes through _pair, which names the element.
    value = get("Action")
    not_action = False
    if type(value) is str and (plain or "NotAction" not in raw):
        actions: tuple[str, ...] = (value,)
    elif type(value) is list and value and (plain or "NotAction" not in raw) and _STR.issuperset(map(type, value)):
        actions = tuple(value)
    else:
        actions_opt, not_action = _pair(ctx, index, raw, "Action", "NotAction", required=True)
        actions = actions_opt or ()
    value = get("Resource")
    not_resource = False
    resources: tuple[str, ...] | None
    if type(value) is str and (plain or "NotResource" not in raw):
        resources = (value,)
    elif type(value) is list and value and (plain or "NotResource" not in raw) and _STR.issuperset(map(type, value)):
        resources = tuple(value)
    else:
        resources, not_resource = _pair(ctx, index, raw, "Resource", "NotResource", required=ctx.kind is not _TRUST)
    block = get("Condition")
    conditions = () if block is None else _conditions(ctx, f"Statement[{index}].Condition", block)
    # An inert statement keeps its data for display but can never match.
    action_matcher = _action_matcher((), False) if inert else _action_matcher(actions, not_action)
    resource_matcher = _resource_matcher(resources, not_resource, variables) if resources is not None else None
    st = _StatementSlots()
    st.ref = ref
    st.principal = principal
    st.not_principal = not_principal
    st.actions = actions
    st.not_action = not_action
    st.resources = resources
    st.not_resource = not_resource
    st.conditions = conditions
    st.action_matcher = action_matcher
    st.resource_matcher = resource_matcher
    st.raw = raw
    st.__class__ = Statement
    return st  # type: ignore[no-any-return]  # a Statement now


def _odd_effect(ctx: _Ctx, index: int, effect_raw: Any) -> Effect:
    """An Effect other than "Allow"/"Deny": an error, or (wrong letter case) an inert statement."""
    if not isinstance(effect_raw, str) or effect_raw.lower() not in ("allow", "deny"):
        raise ctx.error(f"Statement[{index}].Effect", 'must be "Allow" or "Deny"')
    ctx.warn(f"Statement[{index}].Effect", f'"{effect_raw}" is not valid (case-sensitive); statement ignored')
    return Effect.ALLOW if effect_raw.lower() == "allow" else Effect.DENY


def _pair(
    ctx: _Ctx, index: int, raw: Mapping[str, Any], pos: str, neg: str, *, required: bool
) -> tuple[tuple[str, ...], bool] | tuple[None, bool]:
    where = f"Statement[{index}]"
    if pos in raw and neg in raw:
        raise ctx.error(f"{where}.{neg}", f"{pos} and {neg} cannot both be present")
    if pos in raw:
        return _strings(ctx, f"{where}.{pos}", raw[pos]), False
    if neg in raw:
        return _strings(ctx, f"{where}.{neg}", raw[neg]), True
    if required:
        raise ctx.error(f"{where}.{pos}", f"missing (one of {pos}/{neg} is required)")
    return None, False


def _principals(ctx: _Ctx, where: str, raw: Mapping[str, Any]) -> tuple[PrincipalBlock | None, PrincipalBlock | None]:
    """The Principal / NotPrincipal element of a statement that has one of them."""
    has_p, has_np = "Principal" in raw, "NotPrincipal" in raw
    if has_p and has_np:
        raise ctx.error(f"{where}.NotPrincipal", "Principal and NotPrincipal cannot both be present")
    element = "Principal" if has_p else "NotPrincipal"
    if ctx.kind in _NO_PRINCIPAL:
        raise ctx.error(f"{where}.{element}", f"not allowed in a {ctx.kind.value} policy")
    if has_np and ctx.kind in (PolicyKind.TRUST, PolicyKind.RCP):
        raise ctx.error(f"{where}.NotPrincipal", f"not supported in a {ctx.kind.value} policy")
    block = _principal_block(ctx, f"{where}.{element}", raw[element])
    return (block, None) if has_p else (None, block)


_ANY_PRINCIPAL = PrincipalBlock(wildcard=True)


def _principal_block(ctx: _Ctx, where: str, value: Any) -> PrincipalBlock:
    """The block; entries that can never match (partial wildcards, groups) are kept and warned about."""
    if value == "*":
        return _ANY_PRINCIPAL
    if (type(value) is not dict and not isinstance(value, Mapping)) or not value:
        raise ctx.error(where, 'must be "*" or an object of AWS/Service/Federated/CanonicalUser')
    if not _PRINCIPAL_TYPES.issuperset(value):
        raise ctx.error(f"{where}.{sorted(set(value) - _PRINCIPAL_TYPES)[0]}", "unknown principal type")
    lists = {k: _strings(ctx, f"{where}.{k}", v) for k, v in value.items()}
    aws = lists.get("AWS", ())
    for entry in aws:
        if entry != "*" and "*" in entry:
            ctx.warn(f"{where}.AWS", f'"{entry}": partial wildcards never match a principal')
        elif ":group/" in entry:
            ctx.warn(f"{where}.AWS", f'"{entry}": groups cannot be principals')
    service = lists.get("Service", ())
    if "*" in service:
        ctx.warn(f"{where}.Service", '"*" is not allowed as a service principal; it matches nothing')
    wildcard = "*" in aws
    return _new_principal_block(
        wildcard=wildcard,
        aws=tuple([a for a in aws if a != "*"]) if wildcard else aws,
        service=tuple([s for s in service if s != "*"]) if "*" in service else service,
        federated=lists.get("Federated", ()),
        canonical_user=lists.get("CanonicalUser", ()),
    )


def _value_text(ctx: _Ctx, where: str, v: Any) -> str:
    if type(v) is str:
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return json.dumps(v)
    raise ctx.error(where, "condition values must be strings, numbers or booleans")


def _conditions(ctx: _Ctx, where: str, block: Any) -> tuple[ConditionClause, ...]:
    if type(block) is not dict and not isinstance(block, Mapping):
        raise ctx.error(where, "must be an object of operators")
    clauses: list[ConditionClause] = []
    for operator, keys in block.items():
        if not isinstance(operator, str):
            raise ctx.error(where, "operator names must be strings")
        parts = _operator_parts(operator)
        if isinstance(parts, str):
            raise ctx.error(where, parts)
        qualifier, base, if_exists = parts
        if (type(keys) is not dict and not isinstance(keys, Mapping)) or not keys:
            raise ctx.error(f"{where}.{operator}", "must be an object of condition keys")
        for key, values in keys.items():
            items = values if isinstance(values, list) else [values]
            if not items:
                raise ctx.error(f"{where}.{operator}.{key}", "no values")
            texts = tuple([_value_text(ctx, f"{where}.{operator}.{key}", v) for v in items])
            clauses.append(
                _new_clause(
                    operator=operator, base=base, qualifier=qualifier, if_exists=if_exists, key=key, values=texts
                )
            )
    return tuple(clauses)


@memo(maxsize=4096)
def _operator_parts(operator: str) -> tuple[str | None, str, bool] | str:
    """``(qualifier, base, if_exists)`` of an operator name, or the error message for a bad one."""
    qualifier = None
    name = operator
    if ":" in operator:
        q, name = operator.split(":", 1)
        qualifier = _QUALIFIERS.get(q.lower())
        if qualifier is None:
            return f'unknown set operator "{q}" in "{operator}"'
    if_exists = name.endswith("IfExists")
    base = name[: -len("IfExists")] if if_exists else name
    if base == NULL:
        if if_exists:
            return '"Null" cannot take the IfExists suffix'
        return qualifier, NULL, False
    spec = lookup_operator(base)
    if spec is None or spec.name != base:
        return f'unknown operator "{operator}"'
    return qualifier, spec.name, if_exists
