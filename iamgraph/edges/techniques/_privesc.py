"""Shared machinery of the privilege-escalation techniques.

One :class:`PrivescIndex` per estate (built on first use, dropped with the estate) holds what every
technique needs and must not recompute: principals, groups and resources by account and type,
memoised decisions, which sources are already admin, which roles trust which service, and
hypothetical admin checks ("would P be admin if it wrote itself an Allow-everything policy?").

Cost control: ``sources`` keeps only principals whose identity Allow statements name every required
action (``Estate.may_allow``); the decisions themselves come from :class:`~._decide.Decider`.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TypeVar

from iamgraph.edges.techniques._decide import Decider, Named
from iamgraph.edges.techniques._edges import WRITTEN_POLICY
from iamgraph.edges.techniques._self_admin import one_step_admin
from iamgraph.evaluation.decision import Decision
from iamgraph.graph.admin import CONTROL_ACTIONS, SENTINEL_ACTIONS, admin_verdict
from iamgraph.graph.estate import Estate, PrincipalEntry, ResourceEntry
from iamgraph.graph.outside import ALLOW_ALL, provider_principal, service_principal
from iamgraph.model.policy import Effect, Policy, Statement, StatementRef
from iamgraph.model.snapshot import Account
from iamgraph.policy.logic import And, Atom, Expr, atoms, conj

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_ALLOW, _DENY = Effect.ALLOW, Effect.DENY

__all__ = ["Named", "PrivescIndex", "Verdict", "beside_allow_all", "index"]

T = TypeVar("T")


def _allows_everything(st: Statement) -> bool:
    return (
        st.ref.effect is _ALLOW
        and not st.not_action
        and "*" in st.actions
        and st.resources == ("*",)
        and not st.not_resource
        and not st.conditions
    )


def _conjuncts(x: Expr) -> frozenset[Expr]:
    return x.items if isinstance(x, And) else frozenset({x})


def beside_allow_all(identity: tuple[Policy, ...], new: Policy) -> tuple[Policy, ...]:
    """Identity policies ``identity`` (``new`` among them) as a hypothetical admin check needs them: when
    ``new`` allows everything outright, the others' Allow statements change nothing the check reads (the
    identity side holds outright; a :class:`Verdict` keeps the conditions, not the deciding statements),
    so only ``new`` and the policies with a Deny are kept. Principals that differ by their Allows alone then
    share the probes' decisions (``SharedDecisions.anywhere``'s classes)."""
    if not any(pol is new for pol in identity) or not any(map(_allows_everything, new.statements)):
        return identity
    return tuple(pol for pol in identity if pol is new or any(st.ref.effect is _DENY for st in pol.statements))


def _plainly_admin(p: PrincipalEntry) -> bool:
    """Admin without evaluating: an unconditional Allow of everything, no boundary, no Deny."""
    if p.boundaries:
        return False
    identity = [st for pol in p.identity for st in pol.statements]
    return any(_allows_everything(st) for st in identity) and not any(st.ref.effect is _DENY for st in identity)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A hypothetical admin check: ``conditions`` under which the principal would be admin."""

    admin: bool
    conditions: Expr


class PrivescIndex(Decider):
    """Per-estate indexes and memos shared by the privilege-escalation techniques."""

    def __init__(self, estate: Estate) -> None:
        super().__init__(estate)
        self.users: dict[str, list[PrincipalEntry]] = defaultdict(list)
        self.roles: dict[str, list[PrincipalEntry]] = defaultdict(list)
        for p in estate.acting_principals():
            (self.users if p.kind == "user" else self.roles)[p.account].append(p)
        self.resources_by_type: dict[str, list[ResourceEntry]] = defaultdict(list)
        for res in estate.resources.values():
            if res.resource is not None:
                self.resources_by_type[res.type].append(res)
        self._admin: dict[str, bool] = {}
        self._admin_refs: dict[str, frozenset[StatementRef]] = {}  # conditional admins: statements of the conditions
        self._one_step: dict[str, bool] = {}
        self._hypo: dict[tuple[str, object, bool], Verdict] = {}
        self._trust: dict[tuple[str, str], Decision | None] = {}
        self._trusting: dict[tuple[str, str], list[tuple[PrincipalEntry, Decision]]] = {}
        self._named: dict[str, frozenset[str] | None] = {}  # see _services_named
        self._other: dict[object, object] = {}

    # ---- principals --------------------------------------------------------------------------
    def account(self, account_id: str) -> Account:
        return self.estate.snapshot.accounts[account_id]

    def admin_by_permissions(self, p: PrincipalEntry) -> bool:
        """Admin already and unconditionally (:func:`iamgraph.graph.admin.admin_verdict`). An admin
        under conditions (MFA, source IP) keeps its other edges: they are paths when the condition fails."""
        hit = self._admin.get(p.arn)
        if hit is None:
            verdict = admin_verdict(self.estate, p, org_policies=True)
            hit = self._admin[p.arn] = verdict.admin and verdict.conditions is True
            if verdict.admin and not hit:
                refs = {a.source for a in atoms(verdict.conditions)}
                if len(refs) == 1 and all(isinstance(x, Atom) for x in _conjuncts(verdict.conditions)):
                    self._admin_refs[p.arn] = frozenset(refs)  # admin exactly when one statement's conditions hold
        return hit

    def _needs_admin_statements(self, p: PrincipalEntry, action: str) -> bool:
        """``p`` is admin under conditions, and only the statements carrying them allow ``action``: every
        edge needing the action is usable only when ``p`` is admin anyway (the graph builder drops it)."""
        refs = self._admin_refs.get(p.arn)
        if not refs:
            return False
        return not any(
            st.ref.effect is _ALLOW and st.ref not in refs and st.action_matcher.matches(action)
            for pol in p.identity
            for st in pol.statements
        )

    def is_admin(self, p: PrincipalEntry) -> bool:
        """Admin already, or unconditionally one IAM write away from it (the issue's definition):
        its edges inside its own account add nothing but its self grant."""
        hit = self._one_step.get(p.arn)
        if hit is None:
            hit = self._one_step[p.arn] = self.admin_by_permissions(p) or one_step_admin(self, p)
        return hit

    def sources(self, *actions: str) -> Iterator[PrincipalEntry]:
        """Users and roles whose identity Allow statements name every one of ``actions``."""
        everyone = self.estate.acting_principals()
        for p in self.estate.acting_naming(actions[0].split(":", 1)[0].lower()) if actions else everyone:
            if not all(self.estate.may_allow(p.arn, a) for a in actions):
                continue
            self.admin_by_permissions(p)  # notes the statements of an admin under conditions
            if not any(self._needs_admin_statements(p, a) for a in actions):
                yield p

    def skip(self, p: PrincipalEntry, target_account: str) -> bool:
        return target_account == p.account and self.is_admin(p)

    # ---- trust of services -------------------------------------------------------------------
    def service_trust(self, role: PrincipalEntry, service: str) -> Decision | None:
        """Decision for ``service`` assuming ``role`` (None when no trust statement names it)."""
        key = (role.arn, service)
        if key in self._trust:
            return self._trust[key]
        res = self.estate.resources.get(role.arn)
        trust = res.policy if res else None
        d: Decision | None = None
        if trust is not None and not role.principal.service_linked:
            federated = service == "cognito-identity.amazonaws.com"
            named = any(
                st.ref.effect is _ALLOW
                and st.principal is not None
                and (
                    st.principal.wildcard or service in (st.principal.federated if federated else st.principal.service)
                )
                for st in trust.statements
            )
            if named:
                if federated:
                    d = self.estate.evaluate(
                        provider_principal(service),
                        "sts:AssumeRoleWithWebIdentity",
                        role.arn,
                        identity=(ALLOW_ALL,),
                    )
                else:
                    d = self.estate.evaluate(
                        service_principal(service), "sts:AssumeRole", role.arn, identity=(ALLOW_ALL,)
                    )
                d = d if d.possible else None
        self._trust[key] = d
        return d

    def _services_named(self, role: PrincipalEntry) -> frozenset[str] | None:
        """The services and federated providers the Allow statements of the role's trust policy name; None
        when one names ``*`` (any). Asked once per role, not once per role and service (30,000 roles and 20
        services at 50,000 principals)."""
        if role.arn in self._named:
            return self._named[role.arn]
        res = self.estate.resources.get(role.arn)
        names: set[str] = set()
        found: frozenset[str] | None = None
        for st in res.policy.statements if res is not None and res.policy is not None else ():
            if st.ref.effect is _ALLOW and st.principal is not None:
                if st.principal.wildcard:
                    break
                names.update(st.principal.service, st.principal.federated)
        else:
            found = frozenset(names)
        self._named[role.arn] = found
        return found

    def roles_trusting(self, account: str, service: str) -> list[tuple[PrincipalEntry, Decision]]:
        """Roles of ``account`` that ``service`` may assume, with the trust decision."""
        key = (account, service)
        hit = self._trusting.get(key)
        if hit is None:
            hit = []
            for role in self.roles[account]:
                named = self._services_named(role)
                if named is not None and service not in named:
                    continue  # no Allow statement of its trust names the service (nor "*")
                d = self.service_trust(role, service)
                if d is not None:
                    hit.append((role, d))
            self._trusting[key] = hit
        return hit

    def memo(self, key: object, build: Callable[[], T]) -> T:
        """A value built once per estate under ``key`` (for technique-specific indexes)."""
        if key not in self._other:
            self._other[key] = build()
        return self._other[key]  # type: ignore[return-value]

    # ---- hypothetical admin ------------------------------------------------------------------
    def admin_if(
        self,
        p: PrincipalEntry,
        key: object,
        *,
        identity: tuple[Policy, ...] | None = None,
        boundaries: tuple[Policy, ...] | None = None,
        org_policies: bool = False,
    ) -> Verdict:
        """Would ``p`` be admin with these identity policies / boundaries? Like
        :func:`iamgraph.graph.admin.admin_verdict`, organization policies cap but do not demote, unless
        ``org_policies``: then also in control within its SCPs (the decisions to skip a principal's edges)."""
        memo_key = (p.arn, key, org_policies)
        hit = self._hypo.get(memo_key)
        if hit is not None:
            return hit
        entry = replace(
            p,
            identity=p.identity if identity is None else identity,
            boundaries=p.boundaries if boundaries is None else boundaries,
        )
        residuals: list[Expr] = []
        verdict = Verdict(False, False)
        if _plainly_admin(entry) and not (org_policies and (p.scps or self.estate.org is not None)):
            self._hypo[memo_key] = verdict = Verdict(True, True)
            return verdict
        probes = SENTINEL_ACTIONS if not org_policies else (*SENTINEL_ACTIONS, *CONTROL_ACTIONS)
        for i, action in enumerate(probes):
            in_control = i >= len(SENTINEL_ACTIONS)  # admin by its own policies, in control within its SCPs
            d = self.estate.evaluate_anywhere(entry, action, org_policies=in_control)
            if not d.possible:
                break
            residuals.append(d.residual)
        else:
            conditions = conj(residuals)
            verdict = Verdict(conditions is not False, conditions)
        self._hypo[memo_key] = verdict
        return verdict

    def known(self, p: PrincipalEntry, key: object, *, org_policies: bool = False) -> Verdict | None:
        """The verdict :meth:`admin_if` gave for ``p`` under ``key``, if it was asked: callers that make the
        hypothetical policies first ask this (most of their questions repeat one already answered)."""
        return self._hypo.get((p.arn, key, org_policies))

    def admin_with_written_policy(
        self, p: PrincipalEntry, *, without: str | None = None, org_policies: bool = False
    ) -> Verdict:
        """Admin if ``p`` holds an Allow-everything identity policy (``without`` one policy it replaces)."""
        hit = self.known(p, ("written", without), org_policies=org_policies)
        if hit is not None:
            return hit
        kept = (*(pol for pol in p.identity if pol.name != without), WRITTEN_POLICY)
        identity = beside_allow_all(kept, WRITTEN_POLICY)
        return self.admin_if(p, ("written", without), identity=identity, org_policies=org_policies)


_INDEXES: weakref.WeakKeyDictionary[Estate, PrivescIndex] = weakref.WeakKeyDictionary()


def index(estate: Estate) -> PrivescIndex:
    """The shared index of an estate (built once)."""
    idx = _INDEXES.get(estate)
    if idx is None:
        idx = _INDEXES[estate] = PrivescIndex(estate)
    return idx
