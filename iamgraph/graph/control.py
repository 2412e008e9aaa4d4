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

__all__ = ["TECHNIQUE", "control_edges"]

TECHNIQUE = "admin"
NOTE = "admin of the account: can take over any of its users and roles"


def control_edges(
    estate: Estate, effective: Mapping[str, AdminVerdict], self_grants: list[DerivedEdge]
) -> Iterator[DerivedEdge]:
    """``admin`` edges from each admin in control, and from each principal with a self grant to admin."""
    sources: dict[str, list[tuple[Expr, tuple[MatchedStatement, ...], str]]] = {}
    for arn, verdict in effective.items():
        sources.setdefault(arn, []).append((verdict.conditions, verdict.proof, "permissions"))
    for e in self_grants:
        if e.source not in effective or effective[e.source].conditions is not True:
            sources.setdefault(e.source, []).append((e.conditions, e.proof, e.technique))
    kind = EdgeKind.ESCALATE
    for arn, grounds in sources.items():
        admin = estate.principals.get(arn)
        if admin is None or admin.kind == "root":
            continue
        noted = [(c, p, NOTE if why == "permissions" else f"{NOTE} (after {why} on itself)") for c, p, why in grounds]
        for target in estate.by_account.get(admin.account, ()):
            if target.arn == arn or target.kind == "root" or target.principal.service_linked:
                continue
            for conditions, proof, note in noted:
                yield new_edge(
                    source=arn,
                    target=target.arn,
                    kind=kind,
                    technique=TECHNIQUE,
                    proof=proof,
                    conditions=conditions,
                    note=note,
                )
