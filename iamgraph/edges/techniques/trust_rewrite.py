"""Trust rewriting: iam:UpdateAssumeRolePolicy on role R, then sts:AssumeRole -> act as R.

IAM roles have no resource policy for IAM actions, so only principals of R's account can rewrite its
trust. The rewritten trust names the source itself, and a trust policy that names a same-account
caller specifically needs no identity permission for ``sts:AssumeRole`` (spec §5.7 TP-2); the
caller's boundary, SCPs and explicit denies and the RCPs of R's account still apply (TP-3). So the
second step is evaluated against a made-up trust policy naming the source; it is left out of the proof.
Service-linked roles are skipped: their trust policy cannot be edited.
"""

from __future__ import annotations

from collections.abc import Iterator

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.edges.registry import register
from iamgraph.edges.techniques._edges import make_edge, synthetic_policy
from iamgraph.edges.techniques._privesc import index
from iamgraph.evaluation.decision import Decision
from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.model.policy import Policy, PolicyKind

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_K_ESCALATE = EdgeKind.ESCALATE

__all__ = ["trust_rewrite_edges"]

UPDATE = "iam:UpdateAssumeRolePolicy"
ASSUME = "sts:AssumeRole"
_NOTE = "the source rewrites the role's trust policy to name itself, then assumes the role"


def _rewritten_trust(p: PrincipalEntry) -> Policy:
    return synthetic_policy(
        "trust policy rewritten to name the source",
        {"Sid": "RewrittenTrust", "Effect": "Allow", "Principal": {"AWS": p.arn}, "Action": ASSUME},
        PolicyKind.TRUST,
    )


@register("trust-rewrite", "trust_rewrite", "iam:UpdateAssumeRolePolicy on a role, then sts:AssumeRole")
def trust_rewrite_edges(estate: Estate) -> Iterator[DerivedEdge]:
    idx = index(estate)
    for p in idx.sources(UPDATE):
        if idx.is_admin(p):
            continue
        roles = [r for r in idx.roles[p.account] if r.arn != p.arn and not r.principal.service_linked]
        if not roles:
            continue
        trust = _rewritten_trust(p)
        shared: dict[tuple[object, ...], Decision] = {}
        for role, update in idx.iam_targets(p, UPDATE, roles, account=p.account):
            sig = idx.signature(p, ASSUME, role.arn, p.account)
            assume = shared.get(sig) if sig is not None else None
            if assume is None:
                assume = estate.evaluate(p, ASSUME, role.arn, policy=trust)
                if sig is not None:
                    shared[sig] = assume
            edge = make_edge(p.arn, role.arn, _K_ESCALATE, UPDATE, {UPDATE: update, ASSUME: assume}, note=_NOTE)
            if edge is not None:
                yield edge
