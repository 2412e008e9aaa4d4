"""Admin detection: a principal whose effective permissions allow every action on every resource.

Tested with a spread of privileged actions from different services on the ``*`` resource (plus one
action no policy names, so that ``NotAction`` lists and service wildcards cannot pass); the
principal's boundary and deny statements apply as in any evaluation. Organization policies (SCPs,
RCPs) are not part of the test: they cap what an admin can do (guardrails such as "never leave the
organization" or "no new IAM users in prod") but do not make the account's AdministratorAccess roles
any less the account's admins. The caps still apply to every edge and query. A principal that can
grant itself such permissions in one step (a ``grant`` edge to itself) is admin too (set by the
graph builder).
"""

from __future__ import annotations

from dataclasses import dataclass

from iamgraph.edges.base import proof_of
from iamgraph.evaluation.decision import MatchedStatement
from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.policy.logic import Expr, conj

__all__ = ["CONTROL_ACTIONS", "SENTINEL_ACTIONS", "AdminVerdict", "admin_verdict"]

SENTINEL_ACTIONS = (
    "iam:PutRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:PassRole",
    "sts:AssumeRole",
    "s3:PutBucketPolicy",
    "ec2:RunInstances",
    "kms:ScheduleKeyDeletion",
    "lambda:UpdateFunctionCode",
    "secretsmanager:GetSecretValue",
    "iamgraphprobe:AnyOtherAction",
)


@dataclass(frozen=True, slots=True)
class AdminVerdict:
    admin: bool
    conditions: Expr
    proof: tuple[MatchedStatement, ...]


# What taking over the account's principals needs: rewriting a role's trust and assuming it, and creating a
# user's access key. An admin whose SCPs still allow these controls every user and role of its account.
CONTROL_ACTIONS = ("iam:UpdateAssumeRolePolicy", "sts:AssumeRole", "iam:CreateAccessKey")


def admin_verdict(estate: Estate, p: PrincipalEntry, *, org_policies: bool = False) -> AdminVerdict:
    """Admin (possibly under conditions such as MFA) or not, with the deciding statements.

    ``org_policies=True`` asks whether the principal is admin *in control*: admin by its own policies,
    and its SCPs and RCPs still allow the :data:`CONTROL_ACTIONS` (guardrails such as a region lock or
    "never delete the trail" leave that intact). The graph builder and the techniques skip only such
    admins' edges inside their account and draw ``admin`` edges instead."""
    verdict = _admin_verdict(estate, p)
    if not org_policies or not verdict.admin:
        return verdict
    decisions = [estate.evaluate_anywhere(p, a, org_policies=True) for a in CONTROL_ACTIONS]
    if not all(d.possible for d in decisions):
        return AdminVerdict(False, False, ())
    conditions = conj([verdict.conditions, *(d.residual for d in decisions)])
    return AdminVerdict(conditions is not False, conditions, verdict.proof)


def _admin_verdict(estate: Estate, p: PrincipalEntry) -> AdminVerdict:
    org_policies = False  # SCPs and RCPs cap an admin; they do not make it any less the account's admin
    if p.kind == "root":
        decisions = [estate.evaluate_anywhere(p, a, org_policies=org_policies) for a in SENTINEL_ACTIONS[:3]]
    else:
        if not estate.may_allow(p.arn, SENTINEL_ACTIONS[-1]):
            return AdminVerdict(False, False, ())
        decisions = []
        for action in SENTINEL_ACTIONS:
            d = estate.evaluate_anywhere(p, action, org_policies=org_policies)
            if not d.possible:
                return AdminVerdict(False, False, ())
            decisions.append(d)
    if not all(d.possible for d in decisions):
        return AdminVerdict(False, False, ())
    conditions = conj(d.residual for d in decisions)
    return AdminVerdict(conditions is not False, conditions, proof_of(decisions))
