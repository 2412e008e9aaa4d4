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


def _statements(p: PrincipalEntry | Principal, res: ResourceEntry) -> list[Statement]:
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


Groups = list[tuple[Expr, list[str], list[Decision]]]


def _reads_tags(statements: list[Statement]) -> bool:
    """Do any conditions look at resource tags (then resources with other tags answer differently)?"""
    return any("tag" in c.key_lc for st in statements for c in st.conditions)


class _AccessCache:
    """Reuses answers between resources that the policies cannot tell apart.

    For a principal of the estate and a resource without a resource policy, the engine's answer depends
    on the resource only through which Resource elements match its ARN (plus its tags and owner). Resources
    with the same signature share one evaluation per action class; the proof and conditions are the same.
    """

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self.relevant: dict[tuple[str, tuple[str, ...], tuple[int, int]], list[Statement]] = {}
        self.answers: dict[tuple[object, ...], Groups] = {}

    def statements(
        self, p: PrincipalEntry | Principal, res: ResourceEntry, actions: tuple[str, ...]
    ) -> list[Statement]:
        """The statements whose Action element names at least one of the actions."""
        key = (p.arn if isinstance(p, PrincipalEntry) else "", actions, (id(res.policy), id(res.rcps)))
        found = self.relevant.get(key) if isinstance(p, PrincipalEntry) else None
        if found is None:
            found = [st for st in _statements(p, res) if any(st.action_matcher.matches(a) for a in actions)]
            if isinstance(p, PrincipalEntry):
                self.relevant[key] = found
        return found

    def access(self, p: PrincipalEntry | Principal, res: ResourceEntry, actions: tuple[str, ...]) -> Groups:
        statements = self.statements(p, res, actions)
        if not statements:
            return []
        key: tuple[object, ...] | None = None
        if isinstance(p, PrincipalEntry) and res.policy is None:
            lookup = self.estate.lookup_for(p)
            signature = tuple(
                st.resource_matcher.match(res.arn, lookup, deny=st.effect is Effect.DENY)
                if st.resource_matcher is not None
                else None
                for st in statements
            )
            tags = tuple(sorted(res.tags.items())) if _reads_tags(statements) else ()
            key = (p.arn, actions, id(res.rcps), res.account, tags, signature)
            cached = self.answers.get(key)
            if cached is not None:
                return cached
        groups = self._evaluate(p, res, actions, statements)
        if key is not None:
            self.answers[key] = groups
        return groups

    def _evaluate(
        self, p: PrincipalEntry | Principal, res: ResourceEntry, actions: tuple[str, ...], statements: list[Statement]
    ) -> Groups:
        outside = not isinstance(p, PrincipalEntry)
        groups: dict[Expr, tuple[list[str], list[Decision]]] = {}
        for members in _classes(actions, statements).values():
            d = self.estate.evaluate(p, members[0], res.arn, identity=(ALLOW_ALL,) if outside else None)
            if not d.possible:
                continue
            acts, decisions = groups.setdefault(d.residual, ([], []))
            acts.extend(members)
            decisions.append(d)
        return [(cond, acts, decisions) for cond, (acts, decisions) in groups.items()]


@register("resource-access", "resource_access", "principal can perform actions on a resource")
def resource_access_edges(estate: Estate) -> Iterator[DerivedEdge]:
    catalog = get_catalog()
    index = _identity_index(estate)
    cache = _AccessCache(estate)
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
            for cond, acts, decisions in cache.access(p, res, actions):
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
