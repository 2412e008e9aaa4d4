"""Self-escalation: a source that can change a principal's permissions -> ``grant`` edges.

GRANT P -> T means "P can change T's permissions so that T is admin"; it is not traversable. GRANT P -> P
marks P admin (iamgraph.graph.build). An edge is emitted only when the change would really make the
target admin: T is re-evaluated with the hypothetical policies (its boundary and SCPs still apply: writing
a policy for a principal whose boundary caps it at S3 gives it S3 at most; removing a boundary or a Deny
gives it only what its own policies allow) and the edge carries those conditions too. The levers, all
on principals of the source's own account (IAM entities have no resource policy):

* write: Put/Attach a User/Role/Group policy (an Allow-everything policy, or AdministratorAccess);
* unbound: Delete/Put a User/Role permissions boundary, when the target has one;
* undeny: Detach/Delete a User/Role/Group policy, when that entity has such a policy with a Deny;
* iam:AddUserToGroup on group G -> GRANT P -> U for users U outside G, not admin yet, whom G's
  policies would make admin, or would let write themselves an Allow-everything policy (Put/Attach on
  their own user or on G) that makes them admin (evaluated per user: the boundary applies). Groups that
  cannot make anyone admin give no edge: membership is not a privilege change worth a path otherwise.

Group levers grant to every member of the group (``via`` the group). Service-linked roles are skipped.
Admin sources get no edges; one-step admins only their self grant (``PrivescIndex.is_admin``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.edges.registry import register
from iamgraph.edges.techniques._edges import WRITTEN_POLICY, make_edge
from iamgraph.edges.techniques._privesc import PrivescIndex, Verdict, index
from iamgraph.evaluation.decision import Decision
from iamgraph.graph.admin import SENTINEL_ACTIONS
from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.model.policy import Effect, Policy
from iamgraph.model.snapshot import Account, Group, Role, User
from iamgraph.policy.logic import conj

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_ALLOW, _DENY, _K_GRANT = Effect.ALLOW, Effect.DENY, EdgeKind.GRANT

__all__ = ["LEVERS", "Lever", "self_escalation_edges"]

ADD_TO_GROUP = "iam:AddUserToGroup"
_PROBE = SENTINEL_ACTIONS[-1]
Entity = User | Role | Group


@dataclass(frozen=True, slots=True)
class Lever:
    action: str
    on: str  # "user" | "role" | "group"
    change: str  # "write" | "unbound" | "undeny-attached" | "undeny-inline"


LEVERS: tuple[Lever, ...] = (
    Lever("iam:PutUserPolicy", "user", "write"),
    Lever("iam:AttachUserPolicy", "user", "write"),
    Lever("iam:DeleteUserPermissionsBoundary", "user", "unbound"),
    Lever("iam:PutUserPermissionsBoundary", "user", "unbound"),
    Lever("iam:DetachUserPolicy", "user", "undeny-attached"),
    Lever("iam:DeleteUserPolicy", "user", "undeny-inline"),
    Lever("iam:PutRolePolicy", "role", "write"),
    Lever("iam:AttachRolePolicy", "role", "write"),
    Lever("iam:DeleteRolePermissionsBoundary", "role", "unbound"),
    Lever("iam:PutRolePermissionsBoundary", "role", "unbound"),
    Lever("iam:DetachRolePolicy", "role", "undeny-attached"),
    Lever("iam:DeleteRolePolicy", "role", "undeny-inline"),
    Lever("iam:PutGroupPolicy", "group", "write"),
    Lever("iam:AttachGroupPolicy", "group", "write"),
    Lever("iam:DetachGroupPolicy", "group", "undeny-attached"),
    Lever("iam:DeleteGroupPolicy", "group", "undeny-inline"),
)


@register("self-escalation", "self_escalation", "IAM writes that change a principal's permissions (grant edges)")
def self_escalation_edges(estate: Estate) -> Iterator[DerivedEdge]:
    idx = index(estate)
    for lever in LEVERS:
        for p in idx.sources(lever.action):
            if not idx.admin_by_permissions(p):
                yield from _lever_edges(idx, p, lever, only_self=idx.is_admin(p))
    for p in idx.sources(ADD_TO_GROUP):
        if not idx.admin_by_permissions(p):
            yield from _add_to_group_edges(idx, p, only_self=idx.is_admin(p))


# ---- levers on users, roles and groups -----------------------------------------------------------
def _entities(account: Account, on: str) -> Sequence[Entity]:
    if on == "user":
        return list(account.users.values())
    if on == "role":
        return [r for r in account.roles.values() if not r.service_linked]
    return list(account.groups.values())


def _applies(account: Account, entity: Entity, change: str) -> bool:
    if change == "write":
        return True
    if change == "unbound":
        return not isinstance(entity, Group) and entity.boundary is not None
    return bool(_deny_policies(account, entity, change))


def _deny_policies(account: Account, entity: Entity, change: str) -> tuple[Policy, ...]:
    """The entity's own policies of the lever's kind that hold a Deny statement."""
    if change == "undeny-inline":
        own = tuple(ip.policy for ip in entity.inline_policies)
    else:
        own = tuple(account.managed_policies[a].policy for a in entity.attached_policy_arns)
    return tuple(pol for pol in own if any(st.ref.effect is _DENY for st in pol.statements))


def _lever_edges(idx: PrivescIndex, p: PrincipalEntry, lever: Lever, *, only_self: bool) -> Iterator[DerivedEdge]:
    """GRANT edges of one lever; ``only_self`` for a one-step admin (its other edges add nothing)."""
    account = idx.account(p.account)
    entities = _lever_entities(idx, account, lever)
    if only_self:
        entities = [e for e in entities if e.arn == p.arn or p.arn in getattr(e, "member_arns", ())]
    for entity, decision in idx.iam_targets(p, lever.action, entities, account=p.account):
        assert isinstance(entity, User | Role | Group)
        via = (entity.arn,) if isinstance(entity, Group) else ()
        for target in _recipients(idx, entity):
            if only_self and target.arn != p.arn:
                continue
            # onto itself or another: only a change that makes the target admin is a grant
            verdict = _self_verdict(idx, account, target, entity, lever.change)
            if not verdict.admin:
                continue
            edge = make_edge(
                p.arn, target.arn, _K_GRANT, lever.action, {lever.action: decision},
                extra_conditions=verdict.conditions, via=via,
            )  # fmt: skip
            if edge is not None:
                yield edge


def _lever_entities(idx: PrivescIndex, account: Account, lever: Lever) -> list[Entity]:
    """The entities of the account the lever changes anything on (once per account and lever)."""
    key = ("lever entities", account.id, lever)
    return idx.memo(key, lambda: [e for e in _entities(account, lever.on) if _applies(account, e, lever.change)])


def _recipients(idx: PrivescIndex, entity: Entity) -> list[PrincipalEntry]:
    if isinstance(entity, Group):
        return [idx.estate.principals[m] for m in entity.member_arns]
    entry = idx.estate.principals.get(entity.arn)
    return [entry] if entry is not None else []


def _self_verdict(idx: PrivescIndex, account: Account, p: PrincipalEntry, entity: Entity, change: str) -> Verdict:
    """Would ``p`` be admin after the lever is applied to it (or to a group it belongs to)?"""
    if change == "write":
        return idx.admin_with_written_policy(p)
    if change == "unbound":
        return idx.admin_if(p, "unbound", boundaries=())
    hit = idx.known(p, (change, entity.arn))
    if hit is not None:
        return hit
    dropped = {id(pol) for pol in _deny_policies(account, entity, change)}
    identity = _identity(account, p.arn, lambda owner, pol: owner == entity.arn and id(pol) in dropped)
    return idx.admin_if(p, (change, entity.arn), identity=identity)


def _identity(account: Account, arn: str, drop: Callable[[str, Policy], bool]) -> tuple[Policy, ...]:
    """The identity policies of a user or role, in evaluation order, without those ``drop`` names."""
    owners: list[Entity] = []
    if arn in account.users:
        user = account.users[arn]
        owners = [user, *(account.groups[g] for g in user.group_arns)]
    elif arn in account.roles:
        owners = [account.roles[arn]]
    out: list[Policy] = []
    for owner in owners:
        pols = [ip.policy for ip in owner.inline_policies]
        pols += [account.managed_policies[a].policy for a in owner.attached_policy_arns]
        out += [pol for pol in pols if not drop(owner.arn, pol)]
    return tuple(out)


# ---- iam:AddUserToGroup --------------------------------------------------------------------------
def _add_to_group_edges(idx: PrivescIndex, p: PrincipalEntry, *, only_self: bool) -> Iterator[DerivedEdge]:
    account = idx.account(p.account)
    groups = list(account.groups.values())
    for group, decision in idx.iam_targets(p, ADD_TO_GROUP, groups, account=p.account):
        assert isinstance(group, Group)
        for user, verdict, note, support in _joiners(idx, p.account, group):
            if only_self and user.arn != p.arn:
                continue
            edge = _membership_edge(p, user, decision, verdict, group.arn, note, support)
            if edge is not None:
                yield edge


# a user whom joining the group makes admin: the verdict, the edge's note, and the decisions of what the user
# then does itself (a self write: its statements join the proof, not the source's actions)
Joiner = tuple[PrincipalEntry, Verdict, str, tuple[Decision, ...]]
_MADE_ADMIN = "membership of the group would make the user admin"
_THEN_WRITTEN = "membership of the group would let the user write itself an admin policy ({action} on {target})"
# the writes a new member may make to become admin: a policy on itself, or on the group it joined
_SELF_WRITES = {
    "user": ("iam:PutUserPolicy", "iam:AttachUserPolicy"),
    "group": ("iam:PutGroupPolicy", "iam:AttachGroupPolicy"),
}


def _joiners(idx: PrivescIndex, account_id: str, group: Group) -> list[Joiner]:
    """Users of the account outside ``group``, not admin yet, whom its policies would make admin, or let
    write themselves an admin policy (in the account's user order), with the verdict and the edge's note:
    the same for every source that can add users to the group, so worked out once per group rather than
    once per source."""
    return idx.memo(("joiners", group.arn), lambda: list(_find_joiners(idx, account_id, group)))


def _find_joiners(idx: PrivescIndex, account_id: str, group: Group) -> Iterator[Joiner]:
    extra = idx.account(account_id).identity_policies(group.arn)
    allows = [st for pol in extra for st in pol.statements if st.ref.effect is _ALLOW]
    # the actions of the admin test that no Allow of the group names: the user's own policies must
    # (admin is tested on the "*" resource, which only identity statements can grant)
    missing = [a for a in (_PROBE, *SENTINEL_ACTIONS[:-1]) if not any(st.action_matcher.matches(a) for st in allows)]
    # the self writes the group's Allow statements name (IAM Vulnerable's privesc-sre-group: iam:*)
    writes = [a for pair in _SELF_WRITES.values() for a in pair if any(st.action_matcher.matches(a) for st in allows)]
    may_allow = idx.estate.may_allow
    for user in idx.users[account_id]:
        if user.arn in group.member_arns or idx.admin_by_permissions(user):
            continue  # a member already, or admin already: joining changes nothing that matters
        combined = (*user.identity, *extra)
        if not any(not may_allow(user.arn, a) for a in missing):  # else an action no policy allows: not admin
            verdict = idx.admin_if(user, ("group", group.arn), identity=combined)
            if verdict.admin:
                yield user, verdict, _MADE_ADMIN, ()
                continue
        written = _joined_then_written(idx, user, group, combined, writes)
        if written is not None:
            yield written


def _joined_then_written(
    idx: PrivescIndex, user: PrincipalEntry, group: Group, combined: tuple[Policy, ...], writes: list[str]
) -> Joiner | None:
    """A member of ``group`` (identity ``combined``) that may write an Allow-everything policy onto itself or
    onto the group and would then be admin: the verdict's conditions are the write's and the admin check's,
    the write's decision goes with them (the group statement allowing it is part of the edge's proof).
    Only the writes the group's policies name are tried (the user's own ones are its own self-escalation)."""
    for target, kind in ((user.arn, "user"), (group.arn, "group")):
        for action in _SELF_WRITES[kind]:
            if action not in writes:
                continue
            d = idx.estate.evaluate(user, action, target, identity=combined)
            if not d.possible:
                continue
            admin = idx.admin_if(user, ("group then written", group.arn), identity=(*combined, WRITTEN_POLICY))
            if admin.admin:
                conditions = conj([d.residual, admin.conditions])
                if conditions is not False:
                    note = _THEN_WRITTEN.format(action=action, target=target)
                    return user, Verdict(True, conditions), note, (d,)
    return None


def _membership_edge(
    p: PrincipalEntry,
    user: PrincipalEntry,
    decision: Decision,
    verdict: Verdict,
    group: str,
    note: str,
    support: tuple[Decision, ...],
) -> DerivedEdge | None:
    return make_edge(
        p.arn,
        user.arn,
        _K_GRANT,
        ADD_TO_GROUP,
        {ADD_TO_GROUP: decision},
        support=support,
        extra_conditions=verdict.conditions,
        via=(group,),
        note=note,
    )
