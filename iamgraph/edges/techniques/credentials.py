"""Credentials of other users: create an access key or set a console password for user U -> act as U.

The request names U's ARN. IAM users have no resource policy, so only principals of U's account can
be allowed; U itself is skipped. When the account's credential report is in the snapshot it sharpens
the technique: a user with two active keys needs ``iam:DeleteAccessKey`` too, ``CreateLoginProfile``
needs a user without a password and ``UpdateLoginProfile`` one with a password.
"""

from __future__ import annotations

from collections.abc import Iterator

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.edges.registry import register
from iamgraph.edges.techniques._edges import make_edge
from iamgraph.edges.techniques._privesc import PrivescIndex, index
from iamgraph.evaluation.decision import Decision
from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.model.snapshot import CredentialReportRow

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_K_ESCALATE = EdgeKind.ESCALATE

__all__ = ["ACTIONS", "credential_edges"]

CREATE_KEY = "iam:CreateAccessKey"
DELETE_KEY = "iam:DeleteAccessKey"
CREATE_LOGIN = "iam:CreateLoginProfile"
UPDATE_LOGIN = "iam:UpdateLoginProfile"
ACTIONS = (CREATE_KEY, CREATE_LOGIN, UPDATE_LOGIN)
_MFA_NOTE = "console sign-in also asks for the user's MFA device"


@register("credentials", "credentials", "iam:CreateAccessKey / CreateLoginProfile / UpdateLoginProfile on a user")
def credential_edges(estate: Estate) -> Iterator[DerivedEdge]:
    idx = index(estate)
    for action in ACTIONS:
        for p in idx.sources(action):
            if idx.is_admin(p):
                continue
            users = [u for u in idx.users[p.account] if u.arn != p.arn]
            report = _report(idx, p.account)
            for target, decision in idx.iam_targets(p, action, users, account=p.account):
                row = report.get(target.arn) if report is not None else None
                edge = _edge(idx, p, target.arn, action, decision, row)
                if edge is not None:
                    yield edge


def _report(idx: PrivescIndex, account_id: str) -> dict[str, CredentialReportRow] | None:
    """The account's credential report by user ARN (indexed once per account, not once per source)."""
    rows = idx.account(account_id).credential_report
    if rows is None:
        return None
    return idx.memo(("credential report", account_id), lambda: {r.arn: r for r in rows})


def _edge(
    idx: PrivescIndex,
    p: PrincipalEntry,
    target: str,
    action: str,
    decision: Decision,
    row: CredentialReportRow | None,
) -> DerivedEdge | None:
    steps = {action: decision}
    note = ""
    if action == CREATE_KEY and row is not None and all(row.access_keys_active):
        steps[DELETE_KEY] = idx.decide(p, DELETE_KEY, target)
        note = "the user already has two active access keys: one must be deleted first"
    elif action == CREATE_LOGIN and row is not None and row.password_enabled:
        return None  # a login profile exists: UpdateLoginProfile is the technique
    elif action == UPDATE_LOGIN and row is not None and row.password_enabled is False:
        return None  # no login profile to update
    if action != CREATE_KEY and row is not None and row.mfa_active:
        note = _MFA_NOTE
    return make_edge(p.arn, target, _K_ESCALATE, action, steps, note=note)
