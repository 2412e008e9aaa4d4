"""Admin control edges: an admin of an account can act as any of the account's users and roles.

An admin in control (every action on every resource by its own policies, and its SCPs and RCPs still allow
taking over principals: `CONTROL_ACTIONS`) can create access keys or
login profiles for any user, rewrite any role's trust policy and assume it, or attach itself to anything;
the privilege-escalation techniques therefore skip admins inside their own account instead of listing
hundreds of such edges each. These edges restore what that skip leaves out of path queries: one
``admin`` edge per admin and principal of its account, with the admin verdict's proof and conditions (an
admin only with MFA controls the account only with MFA). A principal that can make itself admin in one
step gets them under the conditions of its self grant. Service-linked roles are left out: only their
service can assume them and their trust cannot be changed. Root users are neither sources nor targets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from iamgraph.edges.base import DerivedEdge, EdgeKind, new_edge
from iamgraph.evaluation.decision import MatchedStatement
from iamgraph.graph.admin import AdminVerdict
from iamgraph.graph.estate import Estate
from iamgraph.policy.logic import Expr

__all__ = ["TECHNIQUE", "control_fans"]

TECHNIQUE = "admin"
NOTE = "admin of the account: can take over any of its users and roles"


def control_fans(
    estate: Estate, effective: Mapping[str, AdminVerdict], self_grants: list[DerivedEdge]
) -> Iterator[tuple[DerivedEdge, list[str]]]:
    """``admin`` edges from each admin in control, and from each principal with a self grant to admin: per
    admin and ground (its verdict, a self grant), the edge to the first principal of its account with the
    principals it goes to (``AccessGraph.add_fans`` copies it to each: they differ only in their target).
    A principal's edges keep the order of its grounds."""
    sources: dict[str, list[tuple[Expr, tuple[MatchedStatement, ...], str]]] = {}
    for arn, verdict in effective.items():
        sources.setdefault(arn, []).append((verdict.conditions, verdict.proof, "permissions"))
    for e in self_grants:
        if e.source not in effective or effective[e.source].conditions is not True:
            sources.setdefault(e.source, []).append((e.conditions, e.proof, e.technique))
    for arn, grounds in sources.items():
        admin = estate.principals.get(arn)
        if admin is None or admin.kind == "root":
            continue
        targets = [
            target.arn
            for target in estate.by_account.get(admin.account, ())
            if target.arn != arn and target.kind != "root" and not target.principal.service_linked
        ]
        if not targets:
            continue
        for conditions, proof, why in grounds:
            note = NOTE if why == "permissions" else f"{NOTE} (after {why} on itself)"
            edge = new_edge(
                source=arn,
                target=targets[0],
                kind=EdgeKind.ESCALATE,
                technique=TECHNIQUE,
                proof=proof,
                conditions=conditions,
                note=note,
            )
            yield edge, targets
