"""Disagreement classes between our evaluator and the oracle, with a verdict for each.

A class is a predicate over a *minimized* disagreeing document (see ``diffmin``) plus the two
decisions. Classes are tried in order; the first that holds names the disagreement. Verdicts:
``ours`` (our bug), ``oracle`` (the oracle contradicts a documented AWS rule, cited from the spec),
``known`` (one of the oracle deviations listed in the spec's errata), ``spec-unknown`` (the spec
requires ``Unknown`` where the oracle guesses) and ``undecided``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from iamgraph.evaluation.document import evaluate_document

__all__ = ["CLASSES", "DiffClass", "classify"]

Doc = dict[str, Any]
_VAR = re.compile(r"\$\{([^}]*)\}")
_EPOCH = re.compile(r"^\d+$")
_NEGATED = (
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "ArnNotEquals",
    "ArnNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
)


@dataclass(frozen=True, slots=True)
class DiffClass:
    id: str
    title: str
    verdict: str  # ours | oracle | known | spec-unknown | undecided
    reason: str
    test: Callable[[Doc, str, str], bool]


# ---- document helpers ----------------------------------------------------------------------
def _as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def statements(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    """(layer, statement) for every statement of every policy."""

    def of(policy: Any) -> list[dict[str, Any]]:
        return _as_list(policy.get("Statement", [])) if isinstance(policy, dict) else []

    for layer, key in (("identity", "identityPolicies"), ("boundary", "permissionBoundaries")):
        for p in doc.get(key) or []:
            yield from ((layer, s) for s in of(p))
    if doc.get("sessionPolicy"):
        yield from (("session", s) for s in of(doc["sessionPolicy"]))
    if doc.get("resourcePolicy"):
        yield from (("resource", s) for s in of(doc["resourcePolicy"]))
    for layer in ("scps", "rcps"):
        for level in doc.get(layer) or []:
            for p in level["policies"]:
                yield from ((layer[:-1], s) for s in of(p))


def clauses(doc: Doc) -> Iterator[tuple[str, dict[str, Any], str, str, list[str]]]:
    """(layer, statement, operator, key, values) for every condition clause."""
    for layer, st in statements(doc):
        for op, keys in (st.get("Condition") or {}).items():
            for key, values in keys.items():
                yield layer, st, op, key, [str(v) for v in _as_list(values)]


def _split_op(op: str) -> tuple[str | None, str, bool]:
    qualifier, _, base = op.rpartition(":")
    if_exists = base.endswith("IfExists")
    return (qualifier or None), (base[: -len("IfExists")] if if_exists else base), if_exists


def _ctx(doc: Doc) -> dict[str, Any]:
    return {k.lower(): v for k, v in (doc["request"].get("context") or {}).items()}


def _same_account(doc: Doc) -> bool:
    p = doc["request"]["principal"]
    return isinstance(p, str) and p.split(":")[4:5] == [doc["request"].get("resourceAccount")]


def _principal_kind(doc: Doc) -> str:
    p = doc["request"]["principal"]
    if not isinstance(p, str):
        return "anonymous"
    if ":assumed-role/" in p:
        return "session"
    if ":role/" in p:
        return "rolearn"
    if ":user/" in p:
        return "user"
    return "service" if p.endswith(".amazonaws.com") else "other"


def _role_arn(doc: Doc) -> str | None:
    p = doc["request"]["principal"]
    if _principal_kind(doc) == "session":
        part, acct, res = p.split(":")[1], p.split(":")[4], p.split(":", 5)[5]
        return f"arn:{part}:iam::{acct}:role/{res.split('/')[1]}"
    return p if _principal_kind(doc) == "rolearn" else None


def _aws_entries(element: Any) -> list[str]:
    if element == "*":
        return ["*"]
    if isinstance(element, dict):
        return [str(x) for x in _as_list(element.get("AWS", []))]
    return []


def _rbp_statements(doc: Doc) -> list[dict[str, Any]]:
    return [s for layer, s in statements(doc) if layer == "resource"]


# ---- predicates ----------------------------------------------------------------------------
def _error(doc: Doc, ours: str, oracle: str) -> bool:
    return ours.startswith("Error") or oracle.startswith("Error")


def _scp_order(doc: Doc, ours: str, oracle: str) -> bool:
    """Our decision changes when the SCP (or RCP / VPCE) levels are put in another order."""
    if ours == oracle or not (doc.get("scps") or doc.get("vpcEndpointPolicies")):
        return False
    for key in ("scps", "vpcEndpointPolicies"):
        items = doc.get(key) or []
        if len(items) < 2:
            continue
        for shift in range(1, len(items)):
            variant = {**doc, key: items[shift:] + items[:shift]}
            if evaluate_document(variant, exact_context=True).result != ours:
                return True
    return False


def _rcp_scope(doc: Doc, ours: str, oracle: str) -> bool:
    from iamgraph.catalog import get_catalog

    svc = doc["request"]["action"].split(":")[0].lower()
    return bool(doc.get("rcps")) and svc not in get_catalog().rcp_supported_services() and oracle != ours


def _date_units(doc: Doc, ours: str, oracle: str) -> bool:
    ctx = _ctx(doc)
    for _, _, op, key, values in clauses(doc):
        if not _split_op(op)[1].startswith("Date"):
            continue
        actual = ctx.get(key.lower())
        if not isinstance(actual, str):
            continue
        if any(bool(_EPOCH.match(actual)) != bool(_EPOCH.match(v)) for v in values):
            return True
    return False


def _neg_unresolved_var(doc: Doc, ours: str, oracle: str) -> bool:
    ctx = _ctx(doc)
    for _, _, op, key, values in clauses(doc):
        if _split_op(op)[1] not in _NEGATED or key.lower() not in ctx:
            continue  # an absent key makes a negated operator true whatever the values
        for v in values:
            for m in _VAR.finditer(v):
                body = m.group(1)
                if body in ("*", "?", "$") or "," in body:
                    continue
                if not isinstance(ctx.get(body.strip().lower()), str):
                    return True
    return False


def _notprincipal(doc: Doc) -> list[list[str]]:
    return [_aws_entries(s["NotPrincipal"]) for s in _rbp_statements(doc) if "NotPrincipal" in s]


def _notprincipal_account(doc: Doc, ours: str, oracle: str) -> bool:
    acct = doc["request"]["principal"].split(":")[4] if isinstance(doc["request"]["principal"], str) else None
    return ours == "ExplicitlyDenied" and any(
        acct and (acct in entries or f"arn:aws:iam::{acct}:root" in entries) for entries in _notprincipal(doc)
    )


def _notprincipal_role(doc: Doc, ours: str, oracle: str) -> bool:
    role = _role_arn(doc)
    return ours == "ExplicitlyDenied" and role is not None and any(role in e for e in _notprincipal(doc))


def _notprincipal_leaf(doc: Doc, ours: str, oracle: str) -> bool:
    return ours == "Unknown" and bool(_notprincipal(doc))


def _resource_unresolved_var(doc: Doc, ours: str, oracle: str) -> bool:
    ctx = _ctx(doc)
    for _, st in statements(doc):
        for element in ("NotResource", "Resource"):
            for pattern in _as_list(st.get(element, [])):
                tail = str(pattern).split(":", 5)[-1]
                for m in _VAR.finditer(tail):
                    body = m.group(1)
                    if (
                        body not in ("*", "?", "$")
                        and "," not in body
                        and not isinstance(ctx.get(body.strip().lower()), str)
                    ):
                        return element == "NotResource"
    return False


def _case_only(doc: Doc, effect: str) -> bool:
    """A Resource pattern of an ``effect`` statement matches the request resource only when case is ignored."""
    resource = doc["request"]["resource"]
    for _, st in statements(doc):
        if st.get("Effect") != effect:
            continue
        for pattern in _as_list(st.get("Resource", [])) + _as_list(st.get("NotResource", [])):
            glob = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(pattern))
            if re.fullmatch(glob, resource, re.I | re.S) and not re.fullmatch(glob, resource, re.S):
                return True
    return False


def _arn_case_deny(doc: Doc, ours: str, oracle: str) -> bool:
    return _case_only(doc, "Deny")


def _arn_case_allow(doc: Doc, ours: str, oracle: str) -> bool:
    return _case_only(doc, "Allow")


def _short_arn_rcp(doc: Doc, ours: str, oracle: str) -> bool:
    return any(
        layer == "rcp"
        and any(
            ":" in str(r) and len(str(r).split(":")) < 6
            for r in _as_list(st.get("Resource", [])) + _as_list(st.get("NotResource", []))
        )
        for layer, st in statements(doc)
    )


def _null_empty_value(doc: Doc, ours: str, oracle: str) -> bool:
    ctx = _ctx(doc)
    return any(_split_op(op)[1] == "Null" and ctx.get(key.lower()) in ("", []) for _, _, op, key, _ in clauses(doc))


def _ip_family(doc: Doc, ours: str, oracle: str) -> bool:
    ctx = _ctx(doc)
    for _, _, op, key, values in clauses(doc):
        if _split_op(op)[1] not in ("IpAddress", "NotIpAddress"):
            continue
        actual = ctx.get(key.lower())
        if isinstance(actual, str) and any(("/" not in v) and ((":" in v) != (":" in actual)) for v in values):
            return True
    return False


def _assume_boundary_user(doc: Doc, ours: str, oracle: str) -> bool:
    return (
        doc["request"]["action"].lower() == "sts:assumerole"
        and bool(doc.get("permissionBoundaries"))
        and _principal_kind(doc) == "user"
        and ours == "ImplicitlyDenied"
        and oracle == "Allowed"
        and any(doc["request"]["principal"] in _aws_entries(s.get("Principal")) for s in _rbp_statements(doc))
    )


def _assume_boundary_other(doc: Doc, ours: str, oracle: str) -> bool:
    return (
        doc["request"]["action"].lower() == "sts:assumerole"
        and ours == "ImplicitlyDenied"
        and oracle == "Allowed"
        and bool(doc.get("permissionBoundaries") or doc.get("sessionPolicy"))
    )


def _session_arn_sp(doc: Doc, ours: str, oracle: str) -> bool:
    p = doc["request"]["principal"]
    return (
        _principal_kind(doc) == "session"
        and doc.get("sessionPolicy") is not None
        and _same_account(doc)
        and any(p in _aws_entries(s.get("Principal")) for s in _rbp_statements(doc))
    )


def _wildcard_principalarn_sp(doc: Doc, ours: str, oracle: str) -> bool:
    if not (_same_account(doc) and doc.get("sessionPolicy") is not None and ours == "Allowed"):
        return False
    return any(
        s.get("Effect") == "Allow"
        and "*" in _aws_entries(s.get("Principal"))
        and any(k.lower() == "aws:principalarn" for ks in (s.get("Condition") or {}).values() for k in ks)
        for s in _rbp_statements(doc)
    )


def _wildcard_limits(doc: Doc, ours: str, oracle: str) -> bool:
    return (
        ours == "Unknown"
        and _same_account(doc)
        and bool(doc.get("permissionBoundaries") or doc.get("sessionPolicy"))
        and any(s.get("Effect") == "Allow" and "*" in _aws_entries(s.get("Principal")) for s in _rbp_statements(doc))
    )


def _ifexists_set_absent(doc: Doc, ours: str, oracle: str) -> bool:
    ctx = _ctx(doc)
    return any(_split_op(op)[0] and _split_op(op)[2] and key.lower() not in ctx for _, _, op, key, _ in clauses(doc))


def _mv_single_element(doc: Doc, ours: str, oracle: str) -> bool:
    ctx = _ctx(doc)
    return any(
        not _split_op(op)[0]
        and _split_op(op)[1] != "Null"
        and isinstance(ctx.get(key.lower()), list)
        and len(ctx[key.lower()]) == 1
        for _, _, op, key, _ in clauses(doc)
    )


def _mv_no_qualifier(doc: Doc, ours: str, oracle: str) -> bool:
    ctx = _ctx(doc)
    return ours == "Unknown" and any(
        not _split_op(op)[0] and _split_op(op)[1] != "Null" and isinstance(ctx.get(key.lower()), list)
        for _, _, op, key, _ in clauses(doc)
    )


CLASSES: tuple[DiffClass, ...] = (
    DiffClass("error", "One engine failed on the document", "undecided", "see the error text", _error),
    DiffClass(
        "scp-level-order",
        "Explicit Deny in a later SCP level is missed when an earlier level has no Allow",
        "ours",
        "Spec §5.3 step 1 / §5.5: an explicit Deny at any SCP level is an explicit deny. Our SCP gate is a "
        "short-circuiting conj() over a generator that builds each level's layer lazily, so the levels after "
        "the first one without an Allow are never evaluated and their Denies never registered "
        "(iamgraph/evaluation/engine.py, evaluate(): scp_gate / vpce_gate).",
        _scp_order,
    ),
    DiffClass(
        "mv-key-single-element",
        "Multivalued key holding one value, tested without ForAllValues/ForAnyValue",
        "ours",
        "Spec §3.7 / G1: a multivalued key without a set operator is a documentation gap and the engine MUST "
        "return Unknown. Ours unwraps a one-element list and evaluates it as a single value "
        "(iamgraph/policy/conditions/evaluate.py, evaluate_clause); the oracle answers 'no match'.",
        _mv_single_element,
    ),
    DiffClass(
        "rcp-unsupported-service",
        "RCP applied to a service that RCPs do not cover",
        "oracle",
        "Spec §5.1/§5.5, T67 and errata 6: RCPs apply only to the services on the RCP-supported list (e.g. "
        "ec2, iam, sns, lambda are not on it). The oracle's core engine applies RCPs to every action.",
        _rcp_scope,
    ),
    DiffClass(
        "date-epoch-vs-iso",
        "Date operator comparing epoch seconds with an ISO-8601 value",
        "oracle",
        "Spec §3.4 (Date): values are ISO-8601 forms or epoch seconds, compared as instants; aws:EpochTime is "
        "typed Date. The oracle parses epoch strings as seconds but ISO strings as milliseconds, so mixed "
        "comparisons are off by a factor 1000.",
        _date_units,
    ),
    DiffClass(
        "neg-op-unresolved-variable",
        "Negated operator with a policy variable whose key is absent (T37a)",
        "known",
        "Spec errata, known oracle deviation T37a ('Policy variables with no value': inverted "
        "operators match a null value).",
        _neg_unresolved_var,
    ),
    DiffClass(
        "notprincipal-account-entry",
        "NotPrincipal listing the requester's account ARN (T84b)",
        "known",
        "Spec errata, known oracle deviation T84b: listing the account ARN exempts only the account level.",
        _notprincipal_account,
    ),
    DiffClass(
        "notprincipal-role-entry",
        "NotPrincipal listing the role ARN but not the session ARN",
        "oracle",
        "Spec §6.4 (NotPrincipal page): for a role session the account, role and session ARNs must all be "
        "listed to exempt it; the oracle exempts the session when any level matches (same root cause as "
        "T84b: requestMatchesNotPrincipal).",
        _notprincipal_role,
    ),
    DiffClass(
        "notprincipal-leaf-only",
        "NotPrincipal listing only the requester's own ARN",
        "spec-unknown",
        "Spec §6.4: if only the leaf is listed AWS may still deny at the account level; the engine reports "
        "Unknown ('might deny'). The oracle treats the requester as exempt.",
        _notprincipal_leaf,
    ),
    DiffClass(
        "arn-case-deny",
        "Deny statement whose Resource ARN differs from the request only by letter case",
        "ours",
        "Spec errata 10: keep ARN matching case-sensitive, but flag a Deny that differs from the resource only by "
        "case as Unknown (a case-insensitive match at AWS would hide a deny). Ours silently skips the Deny "
        "(no Unknown, no warning); the oracle compares partition/service/region/account case-insensitively and "
        "denies.",
        _arn_case_deny,
    ),
    DiffClass(
        "arn-case-allow",
        "Allow statement whose Resource ARN differs from the request only by letter case (service/region segment)",
        "undecided",
        "Spec §2.2 and errata 10: case-sensitive ARN matching is a "
        "derived rule (AWS documents it only for the resource name). Ours does not match; the oracle matches the "
        "leading segments case-insensitively. No AWS page decides it.",
        _arn_case_allow,
    ),
    DiffClass(
        "short-arn-in-rcp",
        "RCP statement with a short ARN pattern (fewer than six segments, ending in '*')",
        "undecided",
        "Spec errata 5: compile the raw pattern, a '*' ending a segment runs across colons, so "
        "arn:aws:s3:* matches arn:aws:s3:::bucket (ours: the RCP Deny applies). The oracle rejects short ARNs in "
        "RCPs (never match). No AWS page in the spec's sources settles RCP validation of short ARNs.",
        _short_arn_rcp,
    ),
    DiffClass(
        "null-empty-value",
        "Null condition on a key present with an empty value",
        "undecided",
        "Spec §3.6 [DOC-GAP]: AWS calls an empty user-supplied value 'null'; the spec treats it as null "
        "(Null:true holds). The oracle treats any present key as not null.",
        _null_empty_value,
    ),
    DiffClass(
        "notresource-unresolved-variable",
        "NotResource entry with a policy variable whose key is absent",
        "oracle",
        "Spec §2.2 and §4.3 ('Variables and tags'): a variable without value makes that ARN entry "
        "match no resource, so a NotResource made of it excludes nothing and the statement applies. The oracle "
        "treats the unresolvable entry as a non-invertible mismatch and the statement does not apply.",
        _resource_unresolved_var,
    ),
    DiffClass(
        "ip-bare-address-other-family",
        "IpAddress/NotIpAddress with a bare address of the other IP family",
        "oracle",
        "Spec §3.4 (IP): match = the request address lies inside a listed block; a bare IPv4 address "
        "is /32, so an IPv6 request is outside it and NotIpAddress is true. The oracle's bare-address branch "
        "returns false for a request of the other family regardless of negation (its CIDR branch gets it "
        "right).",
        _ip_family,
    ),
    DiffClass(
        "assume-role-boundary-user",
        "AssumeRole: trust names the user directly, user's boundary denies (T72)",
        "known",
        "Spec errata, known oracle deviation T72 ('Update a role trust policy': the boundary must "
        "allow sts:AssumeRole).",
        _assume_boundary_user,
    ),
    DiffClass(
        "assume-role-boundary-other",
        "AssumeRole: caller's boundary/session policy denies, trust names the caller or '*'",
        "oracle",
        "Spec TP-3 and C2: for sts:AssumeRole* the caller's boundary and session "
        "policy apply even when the trust policy names the caller; same root cause as T72 "
        "(permissionBoundaryBypassResourceAllowStatements applied to trust policies).",
        _assume_boundary_other,
    ),
    DiffClass(
        "session-arn-grant-with-session-policy",
        "Same-account RBP grant to the session ARN, session policy present (T46a)",
        "known",
        "Spec errata, known oracle deviation T46a.",
        _session_arn_sp,
    ),
    DiffClass(
        "wildcard-principalarn-grant-with-session-policy",
        "Same-account RBP grant to '*' + aws:PrincipalArn, session policy denies",
        "oracle",
        "Spec §5.3 and errata 3(a): a '*' grant with an aws:PrincipalArn "
        "condition is not limited by identity, boundary or session policy. The oracle returns the session-policy "
        "result before looking at resource grants (root cause of T46a).",
        _wildcard_principalarn_sp,
    ),
    DiffClass(
        "wildcard-grant-vs-boundary-or-session",
        "Same-account plain '*' RBP grant meets a boundary or session policy that denies",
        "spec-unknown",
        "Spec errata 3(b): not limited by identity implicit deny; the "
        "effect of boundary/session policy is a documentation gap, so the engine returns Unknown.",
        _wildcard_limits,
    ),
    DiffClass(
        "ifexists-set-operator-absent-key",
        "ForAllValues/ForAnyValue …IfExists on an absent key",
        "spec-unknown",
        "Spec errata 4: IfExists combined with a set operator on an absent key is undocumented; "
        "the engine returns Unknown (when the clause decides the request, or explicit vs implicit deny).",
        _ifexists_set_absent,
    ),
    DiffClass(
        "mv-key-no-qualifier",
        "Multivalued key tested without a set operator",
        "spec-unknown",
        "Spec §3.7 / G1: runtime behaviour undocumented, the engine MUST return Unknown; the oracle answers "
        "'no match'.",
        _mv_no_qualifier,
    ),
)
_UNCLASSIFIED = DiffClass("unclassified", "Not yet classified", "undecided", "needs review", lambda *_: True)


def classify(doc: Doc, ours: str, oracle: str) -> DiffClass:
    # Our Unknown always comes from a documented gap: look for that gap first.
    order = sorted(CLASSES, key=lambda c: c.verdict != "spec-unknown") if ours == "Unknown" else CLASSES
    for c in order:
        try:
            if c.test(doc, ours, oracle):
                return c
        except Exception:  # a predicate must never stop the run; fall through to the next class
            continue
    return _UNCLASSIFIED
