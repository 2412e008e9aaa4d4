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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

from iamgraph.catalog import get_catalog
from iamgraph.edges.base import DerivedEdge, EdgeKind, proof_of
from iamgraph.edges.registry import register
from iamgraph.evaluation.decision import Decision, MatchedStatement
from iamgraph.evaluation.principals import Form, match_block
from iamgraph.evaluation.request import Principal
from iamgraph.graph.estate import BUCKET, Estate, PrincipalEntry, ResourceEntry
from iamgraph.graph.outside import ALLOW_ALL, ANYONE, anyone_principal, external_principal, service_principal
from iamgraph.graph.shared import condition_outcomes
from iamgraph.model.policy import Effect, Policy, Statement
from iamgraph.policy.logic import Expr
from iamgraph.policy.match import ResourceMatcher, ResourceResult
from iamgraph.policy.variables import Lookup

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_ALLOW, _DENY, _K_ACCESS = Effect.ALLOW, Effect.DENY, EdgeKind.ACCESS

__all__ = ["OBJECTS_NOTE", "ResourceAccess", "has_access_edges", "resource_access_edges"]

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
                if st.ref.effect is _ALLOW:
                    services |= _services_of(st)
        for s in services:
            index[p.account][s].append(p)
    return index


def _policy_candidates(
    estate: Estate,
    res: ResourceEntry,
    index: dict[str, dict[str, list[PrincipalEntry]]],
    service: str,
    *,
    principals: bool = True,
) -> Iterator[Candidate]:
    """Whom the resource policy names. ``*`` and account grants reach every principal of the resource's own
    account; in another account a principal also needs an identity Allow naming the service (cross-account
    access takes both sides), so only those of the identity index are candidates there. ``principals``
    False: the outsiders only (anyone, accounts and principals outside the estate, services)."""
    policy = res.policy
    if policy is None:
        return
    for st in policy.statements:
        if st.ref.effect is not _ALLOW or st.principal is None:
            continue
        block = st.principal
        if block.wildcard:
            for held in estate.by_account if principals else ():
                yield from _account_candidates(estate, held, res.account, index, service)
            yield ANYONE, anyone_principal()
        for entry in block.aws:
            account = entry if entry.isdigit() else entry.split(":")[4] if entry.count(":") >= 5 else None
            if account is None:
                continue
            is_account = entry.isdigit() or entry.endswith(":root")
            if account in estate.by_account:
                if not principals:
                    continue
                if is_account:
                    yield from _account_candidates(estate, account, res.account, index, service)
                elif entry in estate.principals:
                    yield entry, estate.principals[entry]
            else:
                node = f"arn:aws:iam::{account}:root" if is_account else entry
                yield node, external_principal(node)
        for service_name in block.service:
            yield service_name, service_principal(service_name)


def _account_candidates(
    estate: Estate, account: str, owner: str, index: dict[str, dict[str, list[PrincipalEntry]]], service: str
) -> Iterator[Candidate]:
    if account == owner:
        for p in estate.by_account.get(account, ()):
            if p.kind != "root":
                yield p.arn, p
        return
    for p in _naming_service(index.get(account, {}), service):
        yield p.arn, p


def _naming_service(by_service: dict[str, list[PrincipalEntry]], service: str) -> Iterator[PrincipalEntry]:
    """Principals whose identity Allow statements name ``service`` (or a pattern covering it)."""
    for key, principals in by_service.items():
        if key in (service, "*") or fnmatchcase(service, key):
            yield from principals


Masked = list[tuple[Statement, int]]


@dataclass(frozen=True, slots=True)
class _Grant:
    """One edge's payload, shared by every resource whose answer is the same."""

    conditions: Expr
    actions: tuple[str, ...]
    access: Mapping[str, tuple[str, ...]]
    proof: tuple[MatchedStatement, ...]


Groups = list[_Grant]


class _Shared:
    """One object per value for what access edges carry: their action tuples, access-level groupings and
    proofs. The same few values recur on millions of edges (at 5,000 principals: 4.68 M access edges
    carried 3.17 M action tuples of 87 distinct values, and as many access-level dicts, 1.3 GB of them),
    and the query layer keeps the JSON of those parts by object identity, so shared objects are also
    serialised once."""

    __slots__ = ("access", "actions", "levels", "proofs")

    def __init__(self) -> None:
        self.actions: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.levels: dict[tuple[str, ...], Mapping[str, tuple[str, ...]]] = {}  # by the (sorted) actions
        self.access: dict[tuple[tuple[str, tuple[str, ...]], ...], Mapping[str, tuple[str, ...]]] = {}
        self.proofs: dict[tuple[MatchedStatement, ...], tuple[MatchedStatement, ...]] = {}

    def grant(
        self,
        conditions: Expr,
        actions: tuple[str, ...],
        proof: tuple[MatchedStatement, ...],
        access: Mapping[str, tuple[str, ...]] | None = None,
    ) -> _Grant:
        """A grant of these (sorted) actions, its parts shared; ``access`` made from the actions when None."""
        actions = self.actions.setdefault(actions, actions)
        access = self._levels(actions) if access is None else self.access.setdefault(tuple(access.items()), access)
        proof = self.proofs.setdefault(proof, proof)
        return _Grant(conditions=conditions, actions=actions, access=access, proof=proof)

    def _levels(self, actions: tuple[str, ...]) -> Mapping[str, tuple[str, ...]]:
        """The actions grouped by access level."""
        found = self.levels.get(actions)
        if found is None:
            catalog = get_catalog()
            grouped: dict[str, list[str]] = defaultdict(list)
            for a in actions:
                level = catalog.access_level(a)
                grouped[level.value if level else "Unknown"].append(a)
            made = {k: tuple(v) for k, v in sorted(grouped.items())}
            found = self.levels[actions] = self.access.setdefault(tuple(made.items()), made)
        return found


def _grant(conditions: Expr, acts: list[str], decisions: list[Decision], shared: _Shared) -> _Grant:
    return shared.grant(conditions, tuple(sorted(acts)), proof_of(decisions))


def _classes(full: int, masks: list[int]) -> list[int]:
    """Partition the action bits of ``full`` by which statements match them (partition refinement):
    the engine's answer depends on an action only through that, so each class is evaluated once."""
    parts = [full] if full else []
    for m in masks:
        refined: list[int] = []
        for x in parts:
            inside, outside = x & m, x & ~m
            if inside:
                refined.append(inside)
            if outside:
                refined.append(outside)
        parts = refined
    return parts


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _has_variables(matcher: ResourceMatcher | None) -> bool:
    """Does the element hold a policy variable (then its answer depends on the principal)?"""
    return matcher is not None and matcher.variables and any("${" in p for p in matcher.patterns)


def _reads_tags(statements: Iterable[Statement]) -> bool:
    """Do any conditions look at resource tags (then resources with other tags answer differently)?"""
    return any("tag" in c.key_lc for st in statements for c in st.conditions)


def _surely_not(result: ResourceResult) -> bool:
    return not result.matched and not result.unknown_keys and not result.ambiguous and result.case_only is None


def _needs_resource_grant(res: ResourceEntry) -> bool:
    """KMS keys: identity policies count only when the key policy lets them (spec, KMS rules)."""
    return res.type == "AWS::KMS::Key" or (":kms:" in res.arn and ":key/" in res.arn)


class _AccessCache:
    """Per-estate memos that keep resource access near-linear in the number of edges.

    * Action masks: for each statement and each resource type's action tuple, the bitmask of the actions
      its Action/NotAction element names; computed once per statement (managed policies are shared).
    * A pair (principal, resource) is evaluated only when some Allow could grant it: an identity Allow
      whose Resource element can match the ARN, or a resource-policy Allow whose Principal names it.
    * Statements whose Resource cannot match are left out of the action classes (they cannot decide).
    * When the resource's own policy does not apply to the principal (no statement names it) and the
      service needs no resource-policy grant (KMS does), the answer depends on the resource only through
      which Resource elements match its ARN, its tags and owner: resources with the same signature share
      one evaluation per action class (the proof and conditions are the same).
    * On one resource, principals that present the engine with the same inputs share one evaluation: the
      same statements that can decide (identity, boundary, SCP, the resource-policy statements naming
      them, by the same principal forms, and RCPs), the same account, kind and organisation, and the same
      values of every key those statements' conditions read. Statements with policy variables or a
      NotPrincipal make the answer the principal's own (never shared).
    * Resource elements without policy variables are matched once per resource, not once per principal.

    ``share=False`` turns the sharing off (every candidate pair is evaluated): the reference of the tests.
    """

    def __init__(self, estate: Estate, *, share: bool = True) -> None:
        self.estate = estate
        self.share = share
        self.masks: dict[tuple[str, ...], dict[int, tuple[Statement, int]]] = {}
        self.principal_side: dict[tuple[str, tuple[str, ...]], tuple[Masked, Masked]] = {}
        self.resource_side: dict[tuple[int, int, tuple[str, ...]], tuple[Masked, Masked]] = {}
        self.answers: dict[tuple[object, ...], Groups] = {}
        self.shared = _Shared()
        # per resource (emptied by ``start``): answers by principal class, Resource-element matches
        self.classes: dict[tuple[object, ...], Groups] = {}
        self.matched: dict[tuple[tuple[str, ...], bool, bool, str, bool], ResourceResult] = {}
        self.own: dict[int, bool] = {}  # statement id -> its answer is its principal's own
        # (principal, statement id) -> what the statement's conditions decide for the principal
        self.outcomes: dict[tuple[str, int], tuple[object, ...]] = {}
        self._merged: dict[tuple[int, int], tuple[Groups, Groups, Groups]] = {}

    def start(self) -> None:
        """A new resource: what was shared on the former one is dropped."""
        self.classes.clear()
        self.matched.clear()
        self._merged.clear()

    def merged(self, bucket: Groups, objects: Groups) -> Groups:
        """A bucket's grants and its objects' grants as one list (see ``_merged``); once per pair of shared
        answers (the memo keeps both lists, so their ids are not reused meanwhile)."""
        if not self.share:
            return _merged([*bucket, *objects], self.shared)
        key = (id(bucket), id(objects))
        hit = self._merged.get(key)
        if hit is None or hit[0] is not bucket or hit[1] is not objects:
            hit = self._merged[key] = (bucket, objects, _merged([*bucket, *objects], self.shared))
        return hit[2]

    def _match(self, st: Statement, arn: str, lookup: Lookup) -> ResourceResult | None:
        matcher = st.resource_matcher
        if matcher is None:
            return None
        deny = st.ref.effect is _DENY
        if not self.share:
            return matcher.match(arn, lookup, deny=deny)
        # by the element's text: principals' own inline policies repeat the same Resource elements
        key = (matcher.patterns, matcher.negated, matcher.variables, arn, deny)
        found = self.matched.get(key)
        if found is None:
            found = matcher.match(arn, lookup, deny=deny)
            if not _has_variables(matcher):
                self.matched[key] = found
        return found

    def _own(self, st: Statement) -> bool:
        """Is the answer of ``st`` its principal's own (policy variables anywhere, or a NotPrincipal)?"""
        key = id(st)
        if key not in self.own:
            own = st.not_principal is not None or _has_variables(st.resource_matcher)
            self.own[key] = own or any("${" in str(v) for c in st.conditions for v in c.values)
        return self.own[key]

    def _class_key(
        self,
        p: PrincipalEntry,
        res: ResourceEntry,
        actions: tuple[str, ...],
        allowed: int,
        relevant: Masked,
        forms: tuple[frozenset[Form], ...],
        lookup: Lookup,
    ) -> tuple[object, ...] | None:
        """The principal's class on this resource: what the engine reads of it, with each condition of the
        relevant statements as it decides it (``condition_outcomes``: a condition on the principal's ARN or
        tags that several principals all pass or all fail no longer keeps them apart); None when the
        answer is the principal's own (``_own``). Outcomes are kept per principal and statement: a
        resource key (``aws:ResourceTag``) is unknown to the principal's lookup, so its outcome is the same
        for every principal, and the resource is part of the class."""
        decided: list[tuple[object, ...]] = []
        for st, _ in relevant:
            if self._own(st):
                return None
            if st.conditions:
                key = (p.arn, id(st))
                hit = self.outcomes.get(key)
                if hit is None:
                    hit = self.outcomes[key] = condition_outcomes(((c, st.ref) for c in st.conditions), lookup)
                decided.append(hit)
        q = p.principal
        return (
            res.arn,
            actions,
            allowed,
            p.account,
            p.kind,
            q.kind,
            q.service_linked,
            q.has_boundary,
            q.org_id,
            q.org_paths,
            tuple(id(st) for st, _ in relevant),
            forms,
            tuple(decided),
        )

    def mask(self, st: Statement, actions: tuple[str, ...]) -> int:
        table = self.masks.setdefault(actions, {})
        hit = table.get(id(st))
        if hit is None:
            m = 0
            matches = st.action_matcher.matches
            for i, a in enumerate(actions):
                if matches(a):
                    m |= 1 << i
            hit = table[id(st)] = (st, m)  # the statement is kept alive with its id
        return hit[1]

    def _masked(self, policies: Iterable[Policy], actions: tuple[str, ...]) -> Masked:
        out: Masked = []
        for pol in policies:
            for st in pol.statements:
                m = self.mask(st, actions)
                if m:
                    out.append((st, m))
        return out

    def principal_statements(self, p: PrincipalEntry, actions: tuple[str, ...]) -> tuple[Masked, Masked]:
        """(identity statements, boundary + SCP statements) naming at least one of the actions."""
        key = (p.arn, actions)
        hit = self.principal_side.get(key)
        if hit is None:
            caps = [*p.boundaries, *(pol for level in p.scps for pol in level.policies)]
            hit = self.principal_side[key] = (self._masked(p.identity, actions), self._masked(caps, actions))
        return hit

    def resource_statements(self, res: ResourceEntry, actions: tuple[str, ...]) -> tuple[Masked, Masked]:
        """(resource-policy statements, RCP statements) naming at least one of the actions."""
        key = (id(res.policy), id(res.rcps), actions)
        hit = self.resource_side.get(key)
        if hit is None:
            own = self._masked((res.policy,), actions) if res.policy is not None else []
            rcps = self._masked((pol for level in res.rcps for pol in level.policies), actions)
            hit = self.resource_side[key] = (own, rcps)
        return hit

    def access(self, p: PrincipalEntry | Principal, res: ResourceEntry, actions: tuple[str, ...]) -> Groups:
        own, rcps = self.resource_statements(res, actions)
        target = p.principal if isinstance(p, PrincipalEntry) else p
        applies: Masked = []
        forms: list[frozenset[Form]] = []
        for st, m in own:
            if st.not_principal is not None:
                applies.append((st, m))
                forms.append(frozenset())
            elif st.principal is not None:
                named = match_block(st.principal, target)
                if named:
                    applies.append((st, m))
                    forms.append(named)
        allowed = 0
        for st, m in applies:
            if st.ref.effect is _ALLOW:
                allowed |= m
        if not isinstance(p, PrincipalEntry):
            return self._evaluate(p, res, actions, allowed, [*applies, *rcps]) if allowed else []
        identity, caps = self.principal_statements(p, actions)
        lookup = self.estate.lookup_for(p)
        active: Masked = []
        signature: list[object] = []
        for st, m in identity:
            result = self._match(st, res.arn, lookup)
            signature.append(result)
            if result is not None and _surely_not(result):
                continue
            active.append((st, m))
            if st.ref.effect is not _DENY:
                allowed |= m
        if not allowed:
            return []
        relevant = [*active, *caps, *applies, *rcps]
        key: tuple[object, ...] | None = None
        if self.share and not applies and not _needs_resource_grant(res):
            for st, _ in (*caps, *rcps):
                signature.append(self._match(st, res.arn, lookup))
            statements = (st for st, _ in relevant)
            tags = tuple(sorted(res.tags.items())) if _reads_tags(statements) else ()
            key = (p.arn, actions, id(res.rcps), res.account, tags, tuple(signature), len(own) == 0)
            cached = self.answers.get(key)
            if cached is not None:
                return cached
        shared = self._class_key(p, res, actions, allowed, relevant, tuple(forms), lookup) if self.share else None
        groups = self.classes.get(shared) if shared is not None else None
        if groups is None:
            groups = self._evaluate(p, res, actions, allowed, relevant)
            if shared is not None:
                self.classes[shared] = groups
        if key is not None:
            self.answers[key] = groups
        return groups

    def _evaluate(
        self,
        p: PrincipalEntry | Principal,
        res: ResourceEntry,
        actions: tuple[str, ...],
        allowed: int,
        relevant: Masked,
    ) -> Groups:
        outside = not isinstance(p, PrincipalEntry)
        groups: dict[Expr, tuple[list[str], list[Decision]]] = {}
        for cls in _classes(allowed, [m for _, m in relevant]):
            members = [actions[i] for i in _bits(cls)]
            d = self.estate.evaluate(p, members[0], res.arn, identity=(ALLOW_ALL,) if outside else None)
            if not d.possible:
                continue
            acts, decisions = groups.setdefault(d.residual, ([], []))
            acts.extend(members)
            decisions.append(d)
        return [_grant(cond, acts, decisions, self.shared) for cond, (acts, decisions) in groups.items()]


def has_access_edges(res: ResourceEntry) -> bool:
    """Can the resource have access edges at all (an inventory entry; IAM's own entities get their edges
    from other techniques)?"""
    return res.resource is not None and res.type not in _IAM_TYPES


class ResourceAccess:
    """The access edges onto one resource at a time, from the candidates of the two indexes; the memos of
    ``_AccessCache`` carry over from one resource to the next. The build asks it for every resource; a
    graph built with resource access on demand asks it for the resources a query reaches
    (``iamgraph.graph.ondemand``), which is why ``edges_onto`` can leave out the principals of the estate and
    make the outsiders' edges only (anyone, accounts and principals outside the snapshot, services)."""

    def __init__(self, estate: Estate, *, share: bool = True) -> None:
        self.estate = estate
        self.catalog = get_catalog()
        self._index: dict[str, dict[str, list[PrincipalEntry]]] | None = None
        self.cache = _AccessCache(estate, share=share)

    @property
    def index(self) -> dict[str, dict[str, list[PrincipalEntry]]]:
        """The identity index, made on first use: the outsiders' edges never need it (a build with resource
        access on demand makes only those; the index of 50,000 principals took about 0.3 s)."""
        if self._index is None:
            self._index = _identity_index(self.estate)
        return self._index

    def edges_onto(self, res: ResourceEntry, *, principals: bool = True) -> Iterator[DerivedEdge]:
        """The resource's access edges in candidate order: each candidate's grants, proof and conditions."""
        if not has_access_edges(res):
            return
        cache, catalog = self.cache, self.catalog
        cache.start()
        service = res.arn.split(":")[2]
        candidates: dict[str, PrincipalEntry | Principal] = {}
        index = self.index if principals else {}
        for node, p in _policy_candidates(self.estate, res, index, service, principals=principals):
            candidates.setdefault(node, p)
        if principals:
            for p in _naming_service(index.get(res.account, {}), service):
                candidates.setdefault(p.arn, p)
        if not candidates:  # most resources, for outsiders: no policy naming one (nothing to list actions for)
            return
        actions = tuple(a for a in catalog.actions_on(res.arn) if a.split(":", 1)[0] == service)
        if not actions:
            return
        objects = _objects_of(res)  # S3: "some object of the bucket", decided as a pattern request
        object_actions = tuple(a for a in catalog.actions_on(objects.arn)) if objects is not None else ()
        for node, p in candidates.items():
            grants = cache.access(p, res, actions)
            if objects is not None and object_actions:
                grants = cache.merged(grants, cache.access(p, objects, object_actions))
            for grant in grants:
                yield DerivedEdge(
                    source=node,
                    target=res.arn,
                    kind=_K_ACCESS,
                    technique="resource-access",
                    actions=grant.actions,
                    proof=grant.proof,
                    conditions=grant.conditions,
                    access=grant.access,
                    note=OBJECTS_NOTE if objects is not None and set(grant.actions) & set(object_actions) else "",
                )

    def memo_size(self) -> int:
        """How many entries the memos that grow with the resources asked hold (a long-lived caller bounds them
        by starting a new instance)."""
        c = self.cache
        return len(c.answers) + len(c.outcomes) + len(c.principal_side) + len(c.resource_side) + len(c.own)


@register("resource-access", "resource_access", "principal can perform actions on a resource")
def resource_access_edges(estate: Estate, *, share: bool = True) -> Iterator[DerivedEdge]:
    computed = ResourceAccess(estate, share=share)
    for res in estate.resources.values():
        yield from computed.edges_onto(res)


OBJECTS_NOTE = "object actions: on some objects of the bucket (request arn:aws:s3:::BUCKET/*)"


def _objects_of(res: ResourceEntry) -> ResourceEntry | None:
    """A bucket's objects as one pattern resource ``bucket/*`` (same policy, RCPs and owner)."""
    if res.type != BUCKET:
        return None
    return replace(res, arn=f"{res.arn}/*", tags={})


def _merged(grants: list[_Grant], shared: _Shared) -> list[_Grant]:
    """One grant per residual condition: bucket and object actions under the same conditions share an edge."""
    by_conditions: dict[Expr, list[_Grant]] = {}
    for g in grants:
        by_conditions.setdefault(g.conditions, []).append(g)
    out: list[_Grant] = []
    for conditions, same in by_conditions.items():
        if len(same) == 1:
            out.append(same[0])
            continue
        access: dict[str, set[str]] = defaultdict(set)
        for g in same:
            for level, acts in g.access.items():
                access[level].update(acts)
        proof = {(m.ref.layer, m.ref.policy, m.ref.index, m.level): m for g in same for m in g.proof}
        out.append(
            shared.grant(
                conditions,
                tuple(sorted({a for g in same for a in g.actions})),
                tuple(proof.values()),
                access={k: tuple(sorted(v)) for k, v in sorted(access.items())},
            )
        )
    return out
