"""An estate ready for evaluation: principals and resources of a snapshot with their policy layers.

The graph builder and every edge technique ask one question through this class: *may principal P
perform action A on resource R, and why?* It answers with the evaluator's Decision under a partial
context: keys fixed by configuration (principal ARN, account, tags, organization; resource tags and
owner) are known, request-time keys (MFA, source IP, time, external id, request tags…) are unknown
and come back as residual conditions.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from iamgraph.evaluation.context import Context, KeyPatterns, Value
from iamgraph.evaluation.decision import Decision
from iamgraph.evaluation.engine import evaluate
from iamgraph.evaluation.keys import PRINCIPAL_KEY_PATTERNS, principal_keys
from iamgraph.evaluation.policyset import OrgLevel, PolicySet
from iamgraph.evaluation.request import Principal, PrincipalKind, Request
from iamgraph.graph.shared import ROLE, SharedDecisions
from iamgraph.model.policy import Effect, Policy
from iamgraph.model.snapshot import Account, Resource, Role, Snapshot, User
from iamgraph.policy.variables import Lookup

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_ALLOW = Effect.ALLOW

__all__ = ["Estate", "PrincipalEntry", "ResourceEntry"]

_RESOURCE_KNOWN = ("aws:resourcetag/*", "aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths")
_ANY_KEY = KeyPatterns.of("*")  # every key not given is unknown (partial evaluation)


@dataclass(frozen=True, slots=True, kw_only=True)
class PrincipalEntry:
    """A user, a role (standing for any session of it) or an account's root user."""

    arn: str
    kind: str  # "user" | "role" | "root"
    account: str
    principal: Principal
    identity: tuple[Policy, ...]
    boundaries: tuple[Policy, ...]
    scps: tuple[OrgLevel, ...]
    entity: User | Role | None
    known: KeyPatterns
    context_values: Mapping[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceEntry:
    """Anything a request can name: resources.json entries and IAM users/roles (for IAM actions)."""

    arn: str
    account: str
    type: str
    policy: Policy | None
    tags: Mapping[str, str]
    rcps: tuple[OrgLevel, ...]
    resource: Resource | None


class Estate:
    """Evaluation view over a snapshot, with per-principal and per-resource caches."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.org = snapshot.organization
        self.principals: dict[str, PrincipalEntry] = {}
        self.resources: dict[str, ResourceEntry] = {}
        self._allow_cache: dict[tuple[str, str], bool] = {}
        self._services: dict[str, tuple[frozenset[str] | None, tuple[Policy, ...]]] = {}  # see _allowed_services
        self._naming: dict[str, list[PrincipalEntry]] = {}  # see acting_naming
        self._service_places: tuple[list[PrincipalEntry], dict[str, list[int]], list[int]] | None = None
        self._lookups: dict[str, Lookup] = {}
        self._principal_contexts: dict[str, tuple[Mapping[str, Value], Mapping[str, object]]] = {}
        self.shared = SharedDecisions(self)  # decisions shared between requests with the same inputs
        for account in snapshot.accounts.values():
            self._add_account(account)

    # ---- construction ------------------------------------------------------------------------
    def _org_of(
        self, account_id: str
    ) -> tuple[str | None, tuple[str, ...], tuple[OrgLevel, ...], tuple[OrgLevel, ...]]:
        if self.org is None:
            return None, (), (), ()
        acct = self.org.accounts.get(account_id)
        if acct is None:
            return None, (), (), ()
        org_id = self.org.id
        paths = (f"{org_id}/{'/'.join(acct.path[:-1])}/",) if org_id else ()
        return org_id, paths, acct.scps, acct.rcps

    def _add_account(self, account: Account) -> None:
        org_id, paths, scps, rcps = self._org_of(account.id)
        root_arn = f"arn:aws:iam::{account.id}:root"
        root = Principal(kind=PrincipalKind.ROOT, arn=root_arn, account=account.id, org_id=org_id, org_paths=paths)
        self._add_principal(root_arn, "root", account.id, root, (), (), scps, None)
        for user in account.users.values():
            p = Principal(
                kind=PrincipalKind.USER,
                arn=user.arn,
                account=account.id,
                entity_arn=user.arn,
                unique_id=user.id,
                tags=dict(user.tags),
                org_id=org_id,
                org_paths=paths,
                has_boundary=user.boundary is not None,
            )
            bounds = (user.boundary,) if user.boundary is not None else ()
            self._add_principal(
                user.arn, "user", account.id, p, account.identity_policies(user.arn), bounds, scps, user
            )
            self._add_resource(user.arn, account.id, "AWS::IAM::User", None, user.tags, rcps, None)
        for role in account.roles.values():
            p = Principal(
                kind=PrincipalKind.ROLE_SESSION,
                account=account.id,
                entity_arn=role.arn,
                unique_id=role.id,
                arn=f"arn:aws:sts::{account.id}:assumed-role/{role.name}/*",
                tags=dict(role.tags),
                org_id=org_id,
                org_paths=paths,
                service_linked=role.service_linked,
                has_boundary=role.boundary is not None,
            )
            bounds = (role.boundary,) if role.boundary is not None else ()
            role_scps = () if role.service_linked else scps
            self._add_principal(
                role.arn, "role", account.id, p, account.identity_policies(role.arn), bounds, role_scps, role
            )
            self._add_resource(role.arn, account.id, ROLE, role.trust_policy, role.tags, rcps, None)
        for group in account.groups.values():
            self._add_resource(group.arn, account.id, "AWS::IAM::Group", None, {}, rcps, None)
        for mp in account.managed_policies.values():
            if not mp.aws_managed:
                self._add_resource(mp.arn, account.id, "AWS::IAM::ManagedPolicy", None, {}, rcps, None)
        for res in account.resources.values():
            self._add_resource(res.arn, account.id, res.type, res.policy, res.tags, rcps, res)

    def _add_principal(
        self,
        arn: str,
        kind: str,
        account: str,
        p: Principal,
        identity: tuple[Policy, ...],
        boundaries: tuple[Policy, ...],
        scps: tuple[OrgLevel, ...],
        entity: User | Role | None,
    ) -> None:
        values = principal_keys(p, None)
        known = KeyPatterns.of([*PRINCIPAL_KEY_PATTERNS, *_RESOURCE_KNOWN])
        if kind == "role":  # the session name is chosen by the caller: aws:userid stays unknown
            known = KeyPatterns(known.names - {"aws:userid"}, known.prefixes, False)
        self.principals[arn] = PrincipalEntry(
            arn=arn,
            kind=kind,
            account=account,
            principal=p,
            identity=identity,
            boundaries=boundaries,
            scps=scps,
            entity=entity,
            known=known,
            context_values=values,
        )

    def _add_resource(
        self,
        arn: str,
        account: str,
        rtype: str,
        policy: Policy | None,
        tags: Mapping[str, str],
        rcps: tuple[OrgLevel, ...],
        resource: Resource | None,
    ) -> None:
        self.resources[arn] = ResourceEntry(
            arn=arn,
            account=account,
            type=rtype,
            policy=policy,
            tags=tags,
            rcps=rcps,
            resource=resource,
        )

    # ---- questions ---------------------------------------------------------------------------
    def users(self) -> Iterator[PrincipalEntry]:
        return (p for p in self.principals.values() if p.kind == "user")

    def roles(self) -> Iterator[PrincipalEntry]:
        return (p for p in self.principals.values() if p.kind == "role")

    def acting_principals(self) -> Iterator[PrincipalEntry]:
        """Users and roles: the principals that hold identity policies."""
        return (p for p in self.principals.values() if p.kind in ("user", "role"))

    def acting_naming(self, service: str) -> list[PrincipalEntry]:
        """The users and roles (in the order of :meth:`acting_principals`) whose identity Allow statements
        may name an action of ``service`` (a lower-case prefix): :meth:`may_allow` can say yes for an
        action of the service only to them. A technique looking for the principals that may do one
        action walks this list, not every principal of the estate."""
        hit = self._naming.get(service)
        if hit is None:
            if self._service_places is None:
                acting = list(self.acting_principals())
                places: dict[str, list[int]] = {}
                every: list[int] = []  # may name any service (NotAction, a wildcard service)
                for i, p in enumerate(acting):
                    services = self._allowed_services(p)
                    if services is None:
                        every.append(i)
                    else:
                        for name in services:
                            places.setdefault(name, []).append(i)
                self._service_places = (acting, places, every)
            acting, places, every = self._service_places
            hit = self._naming[service] = [acting[i] for i in heapq.merge(places.get(service, ()), every)]
        return hit

    @cached_property
    def by_account(self) -> dict[str, list[PrincipalEntry]]:
        out: dict[str, list[PrincipalEntry]] = {}
        for p in self.principals.values():
            out.setdefault(p.account, []).append(p)
        return out

    def may_allow(self, principal: str, action: str) -> bool:
        """Cheap prefilter: does any identity Allow statement of the principal name this action?"""
        key = (principal, action)
        hit = self._allow_cache.get(key)
        if hit is None:
            entry = self.principals[principal]
            services = self._allowed_services(entry)
            hit = entry.kind == "root" or (
                (services is None or action.split(":", 1)[0].lower() in services) and _allows(entry.identity, action)
            )
            self._allow_cache[key] = hit
        return hit

    def _allowed_services(self, entry: PrincipalEntry) -> frozenset[str] | None:
        """The services (lower-case prefixes) the principal's identity Allow statements name; None when one
        may name any service (NotAction, a wildcard in the service part). Most principals name a few
        services: ``may_allow`` answers no for the others without matching each statement."""
        found = self._services.get(entry.arn)
        if found is None or found[1] is not entry.identity:
            names: set[str] = set()
            every = False
            for pol in entry.identity:
                for st in pol.statements:
                    if st.ref.effect is not _ALLOW:
                        continue
                    if st.not_action:
                        every = True
                        break
                    for pattern in st.actions:
                        service = pattern.split(":", 1)[0].strip().lower() if ":" in pattern else "*"
                        if "*" in service or "?" in service:
                            every = True
                            break
                        names.add(service)
            found = self._services[entry.arn] = (None if every else frozenset(names), entry.identity)
        return found[0]

    def _principal_values(self, principal: PrincipalEntry) -> Mapping[str, Value]:
        """The principal's context keys as a request context has them (lower case, values normalised), made
        once per principal (hypothetical entries share their principal's values) instead of once per request."""
        hit = self._principal_contexts.get(principal.arn)
        if hit is None or hit[1] is not principal.context_values:
            made = Context.build(principal.context_values).values
            hit = self._principal_contexts[principal.arn] = (made, principal.context_values)
        return hit[0]

    def lookup_for(self, principal: PrincipalEntry) -> Lookup:
        """Context lookup of the principal's known keys (for Resource elements with policy variables)."""
        found = self._lookups.get(principal.arn)
        if found is None:
            ctx = Context.build(dict(principal.context_values), unknown="*")
            found = Context(ctx.values, ctx.unknown, principal.known).lookup
            self._lookups[principal.arn] = found
        return found

    def evaluate_anywhere(self, principal: PrincipalEntry, action: str, *, org_policies: bool) -> Decision:
        """``evaluate(principal, action, "*", resource_account=principal.account, org_policies=...)``, shared
        between requests the engine cannot tell apart (:meth:`SharedDecisions.anywhere`)."""
        return self.shared.anywhere(principal, action, org_policies=org_policies)

    def evaluate_alike(self, principal: PrincipalEntry, action: str, resource: str) -> Decision:
        """``evaluate(principal, action, resource)``, shared between principals the engine cannot tell apart
        on this resource (:meth:`SharedDecisions.alike`)."""
        return self.shared.alike(principal, action, resource)

    def names_action(self, policy: Policy, action: str) -> bool:
        """Some statement of ``policy`` names ``action`` (Action/NotAction); kept per policy and action."""
        return self.shared.names_action(policy, action)

    def _bucket_of(self, arn: str) -> ResourceEntry | None:
        """The bucket entry of an S3 object ARN (None for anything else)."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "s3" or parts[3] or parts[4] or "/" not in parts[5]:
            return None
        bucket = self.resources.get(f"{':'.join(parts[:5])}:{parts[5].split('/', 1)[0]}")
        return bucket if bucket is not None and bucket.type == BUCKET else None

    def entry_for(self, resource: str) -> ResourceEntry | None:
        """The inventory entry whose policy, tags and RCPs a request on ``resource`` is decided with: its own,
        or its bucket's for an S3 object ARN (see :meth:`evaluate`)."""
        return self.resources.get(resource) or self._bucket_of(resource)

    def resource_entry(self, arn: str) -> ResourceEntry | None:
        return self.resources.get(arn)

    def evaluate(
        self,
        principal: PrincipalEntry | Principal,
        action: str,
        resource: str,
        *,
        resource_account: str | None = None,
        policy: Policy | None = None,
        extra: Mapping[str, object] | None = None,
        identity: tuple[Policy, ...] | None = None,
        org_policies: bool = True,
    ) -> Decision:
        """Decision for ``principal`` doing ``action`` on ``resource`` under the partial context.

        An S3 object ARN (``arn:aws:s3:::bucket/key``, or the pattern ``bucket/*`` for "some object") is
        decided under its bucket's policy, RCPs and S3 Block Public Access (RestrictPublicBuckets from the
        bucket's ``PublicAccessBlockConfiguration`` or the account's ``AccountPublicAccessBlockConfiguration``
        property)."""
        res = self.entry_for(resource)
        owner = resource_account or (res.account if res else _arn_account(resource))
        base: Mapping[str, Value] | None = None
        if isinstance(principal, PrincipalEntry):
            p, ident, bounds, scps = principal.principal, principal.identity, principal.boundaries, principal.scps
            base = self._principal_values(principal)
            values: dict[str, object] = {}
            known = principal.known
        else:  # an outside principal (external account, service, provider, anyone)
            p, ident, bounds, scps = principal, (), (), ()
            values = dict(principal_keys(principal, None))
            known = KeyPatterns.of([*PRINCIPAL_KEY_PATTERNS, *_RESOURCE_KNOWN])
        if identity is not None:
            ident = identity
        if owner:
            values["aws:ResourceAccount"] = owner
            org_id, paths, _, _ = self._org_of(owner)
            if org_id:
                values["aws:ResourceOrgID"] = org_id
                values["aws:ResourceOrgPaths"] = list(paths)
        if res is not None:
            for k, v in res.tags.items():
                values[f"aws:ResourceTag/{k}"] = v
        if extra:
            values.update(extra)
        if base is not None:
            ctx = Context.extended(base, values, unknown=_ANY_KEY, known=known)
        else:
            ctx = Context.build(values, unknown="*")
            ctx = Context(ctx.values, ctx.unknown, known)
        rbp = policy if policy is not None else (res.policy if res else None)
        policies = PolicySet(
            identity=ident,
            boundaries=bounds,
            resource=rbp,
            scps=scps if org_policies else (),
            rcps=(res.rcps if res else ()) if org_policies else (),
            s3_restrict_public_buckets=res is not None and _restricts_public_buckets(res),
        )
        request = Request(principal=p, action=action, resource=resource, resource_account=owner, context=ctx)
        return evaluate(request, policies)


BUCKET = "AWS::S3::Bucket"


def _allows(policies: tuple[Policy, ...], action: str) -> bool:
    """Some Allow statement of ``policies`` names ``action`` (each matcher's kept answer read first, as
    ``ActionMatcher`` invites hot loops to: most are there, and the call is what costs)."""
    for pol in policies:
        for st in pol.statements:
            if st.ref.effect is _ALLOW:
                matcher = st.action_matcher
                answer = matcher.answers.get(action)
                if answer is None:
                    answer = matcher.matches(action)
                if answer:
                    return True
    return False


_BLOCK_SETTINGS = ("PublicAccessBlockConfiguration", "AccountPublicAccessBlockConfiguration")


def _restricts_public_buckets(res: ResourceEntry) -> bool:
    """S3 Block Public Access RestrictPublicBuckets, on for the bucket or for its account."""
    if res.type != BUCKET or res.resource is None:
        return False
    for key in _BLOCK_SETTINGS:
        block = res.resource.properties.get(key)
        if isinstance(block, Mapping) and block.get("RestrictPublicBuckets") is True:
            return True
    return False


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4].isdigit() else None
