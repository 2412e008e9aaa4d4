"""Policy versions: rewrite a customer managed policy M -> ``grant`` edges to every holder of M.

* ``iam:CreatePolicyVersion`` on M: the new version can be made default in the same call, so every
  user, role and group member holding M that a version allowing everything would make admin gets a GRANT
  (its boundary and SCPs still apply; one holding M only as its permissions boundary gets nothing from it
  but the cap lifted). M already having five versions needs ``iam:DeletePolicyVersion`` as well.
* ``iam:SetDefaultPolicyVersion`` on M with non-default versions (``other_versions``): a GRANT to each
  holder that one of those versions would make admin (every non-default version is parsed and tried;
  the note names the first that does). Switching to a version that grants less than admin is not a
  grant: the source cannot choose what the holder gets, only among what the versions say.

AWS managed policies cannot be changed and are never targets. Self edges follow the rule of
:mod:`iamgraph.edges.techniques.self_escalation`: emitted only when the change makes the source admin.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.edges.registry import register
from iamgraph.edges.techniques._edges import WRITTEN_POLICY, make_edge
from iamgraph.edges.techniques._privesc import PrivescIndex, Verdict, beside_allow_all, index
from iamgraph.errors import PolicyError
from iamgraph.evaluation.decision import Decision
from iamgraph.graph.admin import SENTINEL_ACTIONS
from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.model.policy import Effect, Policy, PolicyKind
from iamgraph.model.snapshot import Account, ManagedPolicy
from iamgraph.policy.parse import parse_policy

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_K_GRANT = EdgeKind.GRANT
_DENY = Effect.DENY

__all__ = ["policy_version_edges"]

CREATE = "iam:CreatePolicyVersion"
DELETE = "iam:DeletePolicyVersion"
SET_DEFAULT = "iam:SetDefaultPolicyVersion"
_MAX_VERSIONS = 5

Holder = tuple[PrincipalEntry, str | None, bool]  # principal, via group, held as boundary


def _holders(idx: PrivescIndex, account: Account) -> dict[str, list[Holder]]:
    """Customer managed policy ARN -> the users and roles that hold it."""
    out: dict[str, list[Holder]] = defaultdict(list)
    for user in account.users.values():
        entry = idx.estate.principals[user.arn]
        for a in user.attached_policy_arns:
            out[a].append((entry, None, False))
        for g in user.group_arns:
            for a in account.groups[g].attached_policy_arns:
                out[a].append((entry, g, False))
        if user.boundary_arn:
            out[user.boundary_arn].append((entry, None, True))
    for role in account.roles.values():
        if role.service_linked:
            continue
        entry = idx.estate.principals[role.arn]
        for a in role.attached_policy_arns:
            out[a].append((entry, None, False))
        if role.boundary_arn:
            out[role.boundary_arn].append((entry, None, True))
    return out


@register("policy-versions", "self_escalation", "iam:CreatePolicyVersion / SetDefaultPolicyVersion (grant edges)")
def policy_version_edges(estate: Estate) -> Iterator[DerivedEdge]:
    idx = index(estate)
    holders: dict[str, dict[str, list[Holder]]] = {}
    for action in (CREATE, SET_DEFAULT):
        for p in idx.sources(action):
            if idx.admin_by_permissions(p):
                continue
            only_self = idx.is_admin(p)  # a one-step admin: only its self grant adds anything
            account = idx.account(p.account)
            if p.account not in holders:
                holders[p.account] = _holders(idx, account)
            held = holders[p.account]
            policies = [
                mp
                for mp in account.managed_policies.values()
                if not mp.aws_managed and held.get(mp.arn) and (action == CREATE or mp.other_versions)
            ]
            for mp, decision in idx.iam_targets(p, action, policies, account=p.account):
                assert isinstance(mp, ManagedPolicy)
                holders_of = [h for h in held[mp.arn] if not only_self or h[0].arn == p.arn]
                yield from _policy_edges(idx, p, mp, action, decision, holders_of)


def _policy_edges(
    idx: PrivescIndex, p: PrincipalEntry, mp: ManagedPolicy, action: str, decision: Decision, held: list[Holder]
) -> Iterator[DerivedEdge]:
    steps = {action: decision}
    note = ""
    if action == CREATE and len(mp.other_versions) + 1 >= _MAX_VERSIONS:
        steps[DELETE] = idx.decide(p, DELETE, mp.arn)
        note = "the policy has five versions: one must be deleted first"
    # a holder of M as its boundary only gets no permission from a new version: the cap goes, no more
    granting = {target.arn for target, _, as_boundary in held if not as_boundary}
    # admin is judged by probe actions (iamgraph.graph.admin): a Deny that names none of them changes nothing
    denies = any(
        st.ref.effect is _DENY and any(map(st.action_matcher.matches, SENTINEL_ACTIONS)) for st in mp.policy.statements
    )
    seen: set[str] = set()
    for target, group, _ in held:
        if target.arn in seen:
            continue
        seen.add(target.arn)
        # onto itself or another: only a change that makes the holder admin is a grant
        verdict, version = _admin_after(idx, target, mp, action, denies)
        if not verdict.admin:
            continue
        edge_note = note
        if version is not None:
            whom = "the source" if target.arn == p.arn else "the holder"
            edge_note = f"version {version} of the policy makes {whom} admin"
        elif target.arn not in granting:
            edge_note = "the policy is the holder's permissions boundary: without its cap the holder is admin"
        via = (mp.arn,) if group is None else (mp.arn, group)
        edge = make_edge(
            p.arn, target.arn, _K_GRANT, action, steps, extra_conditions=verdict.conditions, via=via, note=edge_note
        )
        if edge is not None:
            yield edge


def _admin_after(
    idx: PrivescIndex, p: PrincipalEntry, mp: ManagedPolicy, action: str, denies: bool
) -> tuple[Verdict, str | None]:
    """Is ``p`` (a holder of ``mp``, which ``denies`` one of the admin probes) admin after the change?
    CreatePolicyVersion writes anything; SetDefault tries every version."""
    if action == CREATE:
        if not denies and not any(b.name == mp.arn for b in p.boundaries):
            # in place of a policy that denies no probe, an Allow-everything version does what one written
            # beside it does: the verdict self-escalation's writes ask for as well (one memo for both)
            return idx.admin_with_written_policy(p), None
        return _with_version(idx, p, mp, WRITTEN_POLICY, "written"), None
    for version_id, policy in _versions(idx, mp):
        verdict = _with_version(idx, p, mp, policy, version_id)
        if verdict.admin:
            return verdict, version_id
    return Verdict(False, False), None


def _versions(idx: PrivescIndex, mp: ManagedPolicy) -> list[tuple[str, Policy]]:
    """The non-default versions of ``mp`` that parse, parsed once for all its holders."""

    def parse() -> list[tuple[str, Policy]]:
        out: list[tuple[str, Policy]] = []
        for version in mp.other_versions:
            name = f"{mp.arn} ({version.version_id})"
            try:
                out.append(
                    (version.version_id, parse_policy(dict(version.document), name=name, kind=PolicyKind.IDENTITY))
                )
            except PolicyError:
                continue
        return out

    return idx.memo(("policy versions", mp.arn), parse)


def _with_version(idx: PrivescIndex, p: PrincipalEntry, mp: ManagedPolicy, new: Policy, key: str) -> Verdict:
    hit = idx.known(p, ("version", mp.arn, key))
    if hit is not None:
        return hit
    identity = beside_allow_all(tuple(new if pol.name == mp.arn else pol for pol in p.identity), new)
    boundaries = p.boundaries
    if any(b.name == mp.arn for b in p.boundaries):
        as_boundary = parse_policy(new.raw, name=new.name, kind=PolicyKind.BOUNDARY)
        boundaries = tuple(as_boundary if b.name == mp.arn else b for b in p.boundaries)
    return idx.admin_if(p, ("version", mp.arn, key), identity=identity, boundaries=boundaries)
