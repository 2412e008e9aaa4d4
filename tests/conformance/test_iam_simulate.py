"""Conformance against the external iam-simulate test cases (see README.md in this folder).

The cases live outside this repository (their licence is AGPL) and are read at run time from
``<repo>/../shared/reference/iam-simulate``; nothing of them is copied here. Every case is one test,
named by its case id. A case listed in ``known_deviations.json`` must give the value documented there
(our value, with the AWS rule that justifies it) instead of the oracle's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from iamgraph.errors import InputError, PolicyError
from iamgraph.evaluation.context import Context
from iamgraph.evaluation.document import build_request
from iamgraph.evaluation.engine import evaluate
from iamgraph.evaluation.principals import Form, match_block, not_principal_applies
from iamgraph.evaluation.request import Principal, PrincipalKind, principal_from_arn
from iamgraph.model.policy import PolicyKind, Statement
from iamgraph.policy.conditions import evaluate_block, evaluate_clause
from iamgraph.policy.conditions.registry import lookup_operator
from iamgraph.policy.logic import Expr, atoms
from iamgraph.policy.match import ActionMatcher, ResourceMatcher
from iamgraph.policy.parse import parse_policy
from iamgraph.policy.public import is_public
from iamgraph.policy.variables import NO_VALUE, Unresolved, parse_template, resolve

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = REPO_ROOT / ".." / "shared" / "reference" / "iam-simulate"
DEVIATIONS_FILE = Path(__file__).with_name("known_deviations.json")

if not REFERENCE.is_dir():
    pytest.skip(
        "iam-simulate reference cases not found (expected next to the repository at ../shared/reference/iam-simulate)",
        allow_module_level=True,
    )

KINDS = (
    "decision",
    "operator",
    "resource",
    "conditionBlock",
    "singleCondition",
    "principal",
    "action",
    "s3PublicPolicy",
)
# Keys of a decision case that are simulation-document elements (docs/simulate-format.md); the rest is metadata.
DOCUMENT_ELEMENTS = (
    "request",
    "identityPolicies",
    "permissionBoundaries",
    "sessionPolicy",
    "resourcePolicy",
    "scps",
    "rcps",
    "vpcEndpointPolicies",
    "settings",
)
ANY_ARN = "arn:*"  # a pattern request for "any resource"
DIRECT_FORMS = {Form.USER, Form.SESSION, Form.FEDERATED_USER, Form.SERVICE, Form.FEDERATED, Form.CANONICAL}


def _load_cases() -> dict[str, list[dict[str, Any]]]:
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for path in sorted(REFERENCE.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                by_kind.setdefault(case["kind"], []).append(case)
    return by_kind


CASES = _load_cases()
DEVIATIONS: dict[str, Any] = json.loads(DEVIATIONS_FILE.read_text(encoding="utf-8"))
KNOWN: dict[str, dict[str, Any]] = DEVIATIONS["cases"]


def _params(kind: str) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in CASES.get(kind, [])]


def _check(kind: str, case: Mapping[str, Any], ours: Any, record: Any) -> None:
    """Agree with the oracle, or give exactly the documented deviation."""
    case_id = case["id"]
    expected = case["expected"]
    known = KNOWN.get(case_id)
    if known is None:
        record(kind, "agree" if ours == expected else "disagree")
        assert ours == expected, f"{case_id}: ours {ours!r}, iam-simulate {expected!r} ({case.get('name', '')})"
        return
    documented = known["ours"]
    record(kind, "deviation" if ours == documented else "disagree")
    assert known.get("oracle", expected) == expected, f"{case_id}: the reference now expects {expected!r}"
    assert ours == documented, f"{case_id}: ours {ours!r}, documented deviation {documented!r}"
    assert documented != expected, f"{case_id}: no longer deviates; remove it from known_deviations.json"


# ---- decision ------------------------------------------------------------------------------------


def _wildcard_only(action: str) -> bool:
    from iamgraph.catalog import get_catalog

    info = get_catalog().action(action)
    return info is not None and not info.resource_types


def _document(case: Mapping[str, Any], rewrite: str | None = None) -> dict[str, Any]:
    doc = {key: case[key] for key in DOCUMENT_ELEMENTS if key in case}
    request = {k: v for k, v in case["request"].items() if k != "wildcardOnlyAction"}
    # runSimulation reads "*" for an action with resource types as "every resource": a pattern request.
    runsimulation = case.get("entryPoint") == "runSimulation"
    if runsimulation and request.get("resource") == "*" and not _wildcard_only(request["action"]):
        request["resource"] = ANY_ARN
    doc["request"] = request
    if rewrite is not None:
        doc["resourcePolicy"] = _rewritten(doc.get("resourcePolicy"), rewrite)
    return doc


def _rewritten(policy: Any, rewrite: str) -> Any:
    """Documented rewrites of resource-policy shapes that AWS rejects (README.md)."""
    if not isinstance(policy, Mapping):
        return policy
    statements = policy.get("Statement")
    statements = [statements] if isinstance(statements, Mapping) else list(statements or [])
    out = []
    for st in statements:
        st = dict(st)
        if rewrite == "principal-string-as-aws-map" and isinstance(st.get("Principal"), str):
            if st["Principal"] != "*":
                st["Principal"] = {"AWS": st["Principal"]}
        elif rewrite == "drop-statements-without-principal" and "Principal" not in st and "NotPrincipal" not in st:
            continue
        out.append(st)
    return {**policy, "Statement": out}


def _discovery_context(context: Mapping[str, Any], constraints: list[Mapping[str, Any]]) -> Context:
    """Discovery mode: a key's value is known only if a constraint says so; the rest is unknown.

    A key whose presence is known but whose value is not is unknown when the case gives it, and known
    to be absent when it does not.
    """
    given = {k.lower(): v for k, v in context.items()}
    values: dict[str, Any] = {}
    known_absent: list[str] = []
    for c in constraints:
        key = str(c["keyName"]).lower()
        if c.get("valueIsKnown"):
            if key in given:
                values[key] = given[key]
            else:
                known_absent.append(key)
        elif c.get("presenceIsKnown") and key not in given:
            known_absent.append(key)
    return Context.build(values, unknown="*", known=known_absent)


def _decide(case: Mapping[str, Any], rewrite: str | None = None) -> str:
    try:
        request, policies = build_request(_document(case, rewrite), exact_context=True)
    except PolicyError:
        return "PolicyError"
    except InputError:
        return "InputError"
    if case.get("mode") == "Discovery":
        raw_context = case["request"].get("context") or {}
        context = _discovery_context(raw_context, case.get("discoveryContextKeyConstraints") or [])
        request = replace(request, context=context)
    result = evaluate(request, policies).result.value
    if case.get("mode") == "Discovery" and result == "Conditional":
        return "Allowed"  # Discovery asks "could this be allowed?"
    return result


@pytest.mark.parametrize("case", _params("decision"))
def test_decision(case: dict[str, Any], record: Any) -> None:
    _check("decision", case, _decide(case), record)
    variant = KNOWN.get(case["id"], {}).get("variant")
    if variant:  # the same question asked with a policy shape AWS accepts
        ours = _decide(case, rewrite=variant["rewrite"])
        assert ours == variant["ours"], f"{case['id']} rewritten ({variant['rewrite']}): ours {ours!r}"


# ---- operator ------------------------------------------------------------------------------------


def _operator(case: Mapping[str, Any]) -> bool | str:
    spec = lookup_operator(case["operator"])
    assert spec is not None, case["operator"]
    lookup = Context.build(case.get("context") or {}).lookup
    values: list[Any] = []
    for raw in case["policyValues"]:
        if spec.variables and "${" in raw:
            resolved = resolve(parse_template(raw), lookup)
            assert not isinstance(resolved, Unresolved)
            values.append(None if resolved is NO_VALUE else resolved)
        else:
            values.append((raw,))
    m = spec.match(case["requestValue"], values)
    return "Unknown" if m is None else m != spec.negated


@pytest.mark.parametrize("case", _params("operator"))
def test_operator(case: dict[str, Any], record: Any) -> None:
    _check("operator", case, _operator(case), record)


# ---- resource ------------------------------------------------------------------------------------


def _resource(case: Mapping[str, Any]) -> bool | str:
    request = case["request"]
    resource = request["resource"]
    if resource == "*" and not request.get("wildcardOnlyAction"):
        resource = ANY_ARN
    matcher = ResourceMatcher(tuple(case["patterns"]), case["element"] == "NotResource", True)
    lookup = Context.build(request.get("context") or {}).lookup
    r = matcher.match(resource, lookup, deny=case["effect"] == "Deny")
    return "Unknown" if (r.ambiguous or r.unknown_keys) else r.matched


@pytest.mark.parametrize("case", _params("resource"))
def test_resource(case: dict[str, Any], record: Any) -> None:
    _check("resource", case, _resource(case), record)


# ---- conditionBlock / singleCondition ---------------------------------------------------------------


def _statement(raw: Mapping[str, Any], kind: PolicyKind = PolicyKind.IDENTITY) -> Statement:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [dict(raw)]}, name="case", kind=kind)
    return policy.statements[0]


def _condition(case: Mapping[str, Any]) -> bool | str:
    effect = case.get("statementEffect") or "Allow"
    context = case["request"].get("context") or {}
    discovery = case.get("mode") == "Discovery"
    if discovery:
        ctx = _discovery_context(context, case.get("discoveryContextKeyConstraints") or [])
    else:
        ctx = Context.build(context)
    try:
        st = _statement({"Effect": effect, "Action": "*", "Resource": "*", "Condition": case["condition"]})
    except PolicyError:
        return "PolicyError"
    if case["kind"] == "singleCondition":
        assert len(st.conditions) == 1
        result: Expr = evaluate_clause(st.conditions[0], ctx.lookup, variables=True, source=st.ref)
    else:
        result = evaluate_block(st.conditions, ctx.lookup, variables=True, source=st.ref)
    if isinstance(result, bool):
        return result
    if any(a.undecidable for a in atoms(result)):
        return "Unknown"
    # Open only on unknown keys: in Discovery mode an Allow may apply, a Deny may not.
    return effect == "Allow" if discovery else "Conditional"


@pytest.mark.parametrize("case", _params("conditionBlock"))
def test_condition_block(case: dict[str, Any], record: Any) -> None:
    _check("conditionBlock", case, _condition(case), record)


@pytest.mark.parametrize("case", _params("singleCondition"))
def test_single_condition(case: dict[str, Any], record: Any) -> None:
    _check("singleCondition", case, _condition(case), record)


# ---- principal -----------------------------------------------------------------------------------


def _requester(raw: Any, element: Mapping[str, Any] | None) -> Principal:
    if isinstance(raw, Mapping):
        assert str(raw.get("type", "")).lower() == "anonymous", raw
        return Principal(kind=PrincipalKind.ANONYMOUS, arn=None)
    try:
        return principal_from_arn(raw)
    except InputError:
        if element and "Federated" in element:  # the holder of a token from this identity provider
            return Principal(kind=PrincipalKind.WEB_IDENTITY, arn=None, provider=raw)
        raise


def _principal(case: Mapping[str, Any]) -> str:
    element_name = case.get("element")
    element = case.get("principalElement")
    try:
        p = _requester(case["request"]["principal"], element)
    except InputError:
        return "InputError"
    raw: dict[str, Any] = {"Effect": "Deny" if element_name == "NotPrincipal" else "Allow", "Action": "*"}
    raw["Resource"] = "*"
    if element_name:
        raw[element_name] = element
    try:
        st = _statement(raw, PolicyKind.RESOURCE)
    except PolicyError:
        return "PolicyError"
    if st.not_principal is not None:
        applies = not_principal_applies(st.not_principal, p, st.ref)
        return "Unknown" if not isinstance(applies, bool) else ("Match" if applies else "NoMatch")
    assert st.principal is not None
    forms = match_block(st.principal, p)
    if forms & DIRECT_FORMS or Form.WILDCARD in forms:
        return "Match"
    if Form.ROLE in forms:
        return "SessionRoleMatch"
    if Form.FEDERATING_USER in forms:
        return "SessionUserMatch"
    if Form.ACCOUNT in forms:
        return "AccountLevelMatch"
    return "NoMatch"


@pytest.mark.parametrize("case", _params("principal"))
def test_principal(case: dict[str, Any], record: Any) -> None:
    _check("principal", case, _principal(case), record)


# ---- action --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _params("action"))
def test_action(case: dict[str, Any], record: Any) -> None:
    matcher = ActionMatcher(tuple(case["patterns"]), case["element"] == "NotAction")
    _check("action", case, matcher.matches(case["request"]["action"]), record)


# ---- s3PublicPolicy ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _params("s3PublicPolicy"))
def test_s3_public_policy(case: dict[str, Any], record: Any) -> None:
    public, indexes = is_public(parse_policy(case["policy"], name="bucket policy", kind=PolicyKind.RESOURCE))
    ours = "public" if public else "nonPublic"
    _check("s3PublicPolicy", case, ours, record)
    if public and case["expected"] == "public":  # upstream numbers statements from 1
        assert [i + 1 for i in indexes] == [s["index"] for s in case.get("expectedPublicStatements") or []]


# ---- the deviation list itself -------------------------------------------------------------------


def _all_ids() -> Iterator[str]:
    for cases in CASES.values():
        for case in cases:
            yield case["id"]


def test_every_kind_was_found() -> None:
    missing = [kind for kind in KINDS if not CASES.get(kind)]
    assert not missing, f"no reference cases of kind {missing}"
    assert not set(CASES) - set(KINDS), f"unhandled kinds {sorted(set(CASES) - set(KINDS))}"


def test_known_deviations_are_well_formed() -> None:
    ids = set(_all_ids())
    rules = DEVIATIONS["rules"]
    problems = []
    for case_id, entry in KNOWN.items():
        if case_id not in ids:
            problems.append(f"{case_id}: not a reference case")
        if entry.get("rule") not in rules:
            problems.append(f"{case_id}: unknown rule {entry.get('rule')!r}")
        if "ours" not in entry or not entry.get("why"):
            problems.append(f"{case_id}: needs 'ours' and 'why'")
    for name, rule in rules.items():
        if not rule.get("page") or not rule.get("rule"):
            problems.append(f"rule {name}: needs the AWS page title and the rule")
    assert not problems, "\n".join(problems)
