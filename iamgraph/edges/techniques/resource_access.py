"""Resource access: principal -> resource, the allowed actions grouped by access level.

Candidates come from two indexes, never from principals x resources blindly:
* the resource's own policy names who it grants (principals, accounts, ``*``, services), and
* same-account principals whose identity Allow statements name the resource's service.
Each candidate is evaluated with the full decision procedure (resource policy, same/cross-account
rules, boundary, SCPs, RCPs). Actions whose statement matches coincide are evaluated once: the engine's
answer depends on an action only through which statements match it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from fnmatch import fnmatchcase

from iamgraph.catalog import get_catalog
from iamgraph.edges.base import DerivedEdge, EdgeKind, proof_of
from iamgraph.edges.registry import register
from iamgraph.evaluation.decision import Decision
from iamgraph.evaluation.request import Principal
from iamgraph.graph.estate import Estate, PrincipalEntry, ResourceEntry
from iamgraph.graph.outside import ALLOW_ALL, ANYONE, anyone_principal, external_principal, service_principal
from iamgraph.model.policy import Effect, Policy, Statement
from iamgraph.policy.logic import Expr

__all__ = ["resource_access_edges"]

_IAM_TYPES = ("AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Group", "AWS::IAM::ManagedPolicy")
Candidate = tuple[str, PrincipalEntry | Principal]


def _services_of(st: Statement) -> frozenset[str]:
    """Service prefixes an Allow statement can grant (``*`` for all)."""
    if st.not_action:
        return frozenset({"*"})
    out = set()
    for pattern in st.actions:
        prefix = pattern.split(":", 1)[0].lower()
        out.add("*" if "*" in prefix or "?" in prefix else prefix)
    return frozenset(out)


def _identity_index(estate: Estate) -> dict[str, dict[str, list[PrincipalEntry]]]:
    """account -> service prefix (or ``*``) -> principals with an identity Allow naming it."""
    index: dict[str, dict[str, list[PrincipalEntry]]] = defaultdict(lambda: defaultdict(list))
    for p in estate.acting_principals():
        services: set[str] = set()
        for pol in p.identity:
            for st in pol.statements:
                if st.effect is Effect.ALLOW:
                    services |= _services_of(st)
        for s in services:
            index[p.account][s].append(p)
    return index


def _policy_candidates(estate: Estate, res: ResourceEntry) -> Iterator[Candidate]:
    policy = res.policy
    if policy is None:
        return
    for st in policy.statements:
        if st.effect is not Effect.ALLOW or st.principal is None:
            continue
        block = st.principal
        if block.wildcard:
            for p in estate.acting_principals():
                yield p.arn, p
            yield ANYONE, anyone_principal()
        for entry in block.aws:
            account = entry if entry.isdigit() else entry.split(":")[4] if entry.count(":") >= 5 else None
            if account is None:
                continue
            local = estate.by_account.get(account)
            is_account = entry.isdigit() or entry.endswith(":root")
            if local is not None:
                if is_account:
                    for p in local:
                        if p.kind != "root":
                            yield p.arn, p
                elif entry in estate.principals:
                    yield entry, estate.principals[entry]
            else:
                node = f"arn:aws:iam::{account}:root" if is_account else entry
                yield node, external_principal(node)
        for service in block.service:
            yield service, service_principal(service)


def _classes(actions: tuple[str, ...], statements: list[Statement]) -> dict[tuple[bool, ...], list[str]]:
    classes: dict[tuple[bool, ...], list[str]] = {}
    for a in actions:
        mask = tuple(st.action_matcher.matches(a) for st in statements)
        if any(mask):
            classes.setdefault(mask, []).append(a)
    return classes


def _statements(p: PrincipalEntry | Principal, res: ResourceEntry, outside: bool) -> list[Statement]:
    policies: list[Policy] = []
    if isinstance(p, PrincipalEntry):
        policies.extend(p.identity)
        policies.extend(p.boundaries)
        for level in p.scps:
            policies.extend(level.policies)
    else:
        policies.append(ALLOW_ALL)
    if res.policy is not None:
        policies.append(res.policy)
    for level in res.rcps:
        policies.extend(level.policies)
    return [st for pol in policies for st in pol.statements]


def _access(
    estate: Estate, p: PrincipalEntry | Principal, res: ResourceEntry, actions: tuple[str, ...]
) -> Iterator[tuple[Expr, list[str], list[Decision]]]:
    """Groups of allowed actions that share one residual condition, with their decisions."""
    outside = not isinstance(p, PrincipalEntry)
    groups: dict[Expr, tuple[list[str], list[Decision]]] = {}
    for members in _classes(actions, _statements(p, res, outside)).values():
        d = estate.evaluate(p, members[0], res.arn, identity=(ALLOW_ALL,) if outside else None)
        if not d.possible:
            continue
        acts, decisions = groups.setdefault(d.residual, ([], []))
        acts.extend(members)
        decisions.append(d)
    for cond, (acts, decisions) in groups.items():
        yield cond, acts, decisions


@register("resource-access", "resource_access", "principal can perform actions on a resource")
def resource_access_edges(estate: Estate) -> Iterator[DerivedEdge]:
    catalog = get_catalog()
    index = _identity_index(estate)
    for res in estate.resources.values():
        if res.resource is None or res.type in _IAM_TYPES:
            continue
        service = res.arn.split(":")[2]
        actions = tuple(a for a in catalog.actions_on(res.arn) if a.split(":", 1)[0] == service)
        if not actions:
            continue
        candidates: dict[str, PrincipalEntry | Principal] = {}
        for node, p in _policy_candidates(estate, res):
            candidates.setdefault(node, p)
        by_service = index.get(res.account, {})
        for key in (service, "*"):
            for p in by_service.get(key, ()):
                candidates.setdefault(p.arn, p)
        for key, plist in by_service.items():
            if key not in (service, "*") and fnmatchcase(service, key):
                for p in plist:
                    candidates.setdefault(p.arn, p)
        for node, p in candidates.items():
            for cond, acts, decisions in _access(estate, p, res, actions):
                access: dict[str, list[str]] = defaultdict(list)
                for a in acts:
                    level = catalog.access_level(a)
                    access[level.value if level else "Unknown"].append(a)
                yield DerivedEdge(
                    source=node,
                    target=res.arn,
                    kind=EdgeKind.ACCESS,
                    technique="resource-access",
                    actions=tuple(sorted(acts)),
                    proof=proof_of(decisions),
                    conditions=cond,
                    access={k: tuple(sorted(v)) for k, v in sorted(access.items())},
                )
