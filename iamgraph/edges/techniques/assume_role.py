"""Role assumption, started from trust policies (they name who they trust).

For every Allow statement of a role's trust policy the named principals become candidates: users and
roles of the snapshot, every principal of a trusted account (delegation: their identity policies must
allow), accounts outside the snapshot, ``*``, services and federated providers. Each candidate is then
evaluated with the full decision procedure (identity, boundary, SCPs of the caller, trust, RCPs of the
role's account); conditions that depend on the request stay on the edge.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from iamgraph.edges.base import DerivedEdge, EdgeKind, new_edge, proof_of
from iamgraph.edges.registry import register
from iamgraph.edges.techniques._edges import shared
from iamgraph.evaluation.decision import Decision, MatchedStatement, Result
from iamgraph.evaluation.request import Principal
from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.graph.outside import (
    ALLOW_ALL,
    ANYONE,
    anyone_principal,
    external_principal,
    provider_principal,
    service_principal,
)
from iamgraph.model.policy import Effect, Statement

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_ALLOW, _K_ASSUME = Effect.ALLOW, EdgeKind.ASSUME

__all__ = ["assume_role_edges"]

ASSUME = "sts:AssumeRole"
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
SAML = "sts:AssumeRoleWithSAML"
_ACCOUNT = re.compile(r"^(?:(\d{12})|arn:[\w-]+:iam::(\d{12}):root)$")
_ENTITY = re.compile(r"^arn:[\w-]+:(?:iam|sts)::(\d{12}):")

Candidate = tuple[str, PrincipalEntry | Principal, str]  # (source node id, principal, action)


class _Callers:
    """The principals of each account (roots aside): all of them, and those whose identity Allow
    statements name sts:AssumeRole (``Estate.may_allow``), listed once per account rather than filtered
    again for every trust that names the account."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self._all: dict[str, list[PrincipalEntry]] = {}
        self._allowed: dict[str, list[PrincipalEntry]] = {}

    def every(self, account: str) -> list[PrincipalEntry]:
        found = self._all.get(account)
        if found is None:
            found = self._all[account] = [p for p in self.estate.by_account.get(account, ()) if p.kind != "root"]
        return found

    def allowed(self, account: str) -> list[PrincipalEntry]:
        found = self._allowed.get(account)
        if found is None:
            may = self.estate.may_allow
            found = self._allowed[account] = [p for p in self.every(account) if may(p.arn, ASSUME)]
        return found


def _candidates(estate: Estate, st: Statement, role_account: str, callers: _Callers) -> Iterator[Candidate]:
    block = st.principal
    if block is None:
        return
    if block.wildcard:
        # "*" grants the role's own account directly; any other caller also needs an identity Allow
        for account in estate.by_account:
            for p in callers.every(account) if account == role_account else callers.allowed(account):
                yield p.arn, p, ASSUME
        yield ANYONE, anyone_principal(), ASSUME
    by_id = _ids(estate)
    for entry in block.aws:
        m = _ACCOUNT.match(entry)
        if m:
            account = m.group(1) or m.group(2)
            if account in estate.by_account:
                for p in callers.allowed(account):
                    yield p.arn, p, ASSUME
            else:
                yield (
                    f"arn:aws:iam::{account}:root",
                    external_principal(entry if ":" in entry else f"arn:aws:iam::{account}:root"),
                    ASSUME,
                )
            continue
        local_p = estate.principals.get(entry) or by_id.get(entry)
        if local_p is not None:
            yield local_p.arn, local_p, ASSUME
        elif _ENTITY.match(entry) and entry.split(":")[4] not in estate.snapshot.accounts:
            yield entry, external_principal(entry), ASSUME
    for service in block.service:
        yield service, service_principal(service), ASSUME
    for provider in block.federated:
        action = SAML if ":saml-provider/" in provider else WEB_IDENTITY
        yield provider, provider_principal(provider), action


def _ids(estate: Estate) -> dict[str, PrincipalEntry]:
    cached = getattr(estate, "_unique_ids", None)
    if cached is None:
        cached = {p.principal.unique_id: p for p in estate.acting_principals() if p.principal.unique_id}
        estate._unique_ids = cached  # type: ignore[attr-defined]
    return cached


@register("assume-role", "assume_role", "sts:AssumeRole / AssumeRoleWithWebIdentity / AssumeRoleWithSAML")
def assume_role_edges(estate: Estate) -> Iterator[DerivedEdge]:
    proofs: dict[int, tuple[tuple[MatchedStatement, ...], Decision]] = {}  # principals of a class share a decision
    callers = _Callers(estate)
    alike, evaluate, assume = estate.evaluate_alike, estate.evaluate, _K_ASSUME
    possible = (Result.ALLOWED, Result.CONDITIONAL, Result.UNKNOWN)  # Decision.possible, read per candidate
    actions = {a: shared((a,)) for a in (ASSUME, WEB_IDENTITY, SAML)}
    for role in estate.roles():
        res = estate.resources.get(role.arn)
        trust = res.policy if res else None
        if trust is None:
            continue
        target = role.arn
        seen: set[tuple[str, str]] = set()
        for st in trust.statements:
            if st.ref.effect is not _ALLOW:
                continue
            named = {a: st.action_matcher.matches(a) for a in actions}  # once per statement, not per candidate
            for source, principal, action in _candidates(estate, st, role.account, callers):
                if (source, action) in seen:
                    continue
                seen.add((source, action))
                if not named[action]:
                    continue
                if type(principal) is PrincipalEntry:
                    d = alike(principal, action, target)
                else:
                    d = evaluate(principal, action, target, identity=(ALLOW_ALL,))
                if d.result not in possible:
                    continue
                proof = proofs.get(id(d))
                if proof is None:
                    proof = proofs[id(d)] = (proof_of([d]), d)  # the decision kept: its id stays its own
                yield new_edge(
                    source=source,
                    target=target,
                    kind=assume,
                    technique=action,
                    actions=actions[action],
                    proof=proof[0],
                    conditions=d.residual,
                )
