"""access-levels PRINCIPAL: effective permissions grouped by service and access level.

An action counts when the principal's own policies let it perform the action on some resource (a pattern
request ``arn:*``, or ``*`` for actions without resource types) once identity policies, boundary and SCPs
are applied. The resource owner's side is taken as delegating to IAM (a resource policy granting the
principal's account, as the default KMS key policy does), so actions that always need a resource-policy
grant (``sts:AssumeRole``, KMS) count by what the identity allows; who-can and the graph's access edges
show what resource policies actually grant. Actions whose statement matches coincide are evaluated once.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Any

from iamgraph.catalog import get_catalog
from iamgraph.graph.queries.base import Analysis, admin_state
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.model.policy import Effect, Policy, PolicyKind
from iamgraph.policy import parse_policy
from iamgraph.policy.logic import expr_to_json

__all__ = ["access_levels"]


@lru_cache(maxsize=256)
def _delegating(account: str) -> Policy:
    """A resource policy that leaves the decision to the principal's own policies (its account is granted)."""
    grant = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "*", "Resource": "*"}
    return parse_policy(
        {"Version": "2012-10-17", "Statement": [grant]}, name="(owner delegates to IAM)", kind=PolicyKind.RESOURCE
    )


def access_levels(
    analysis: Analysis, principal: str, *, whatif: WhatIf | None = None, deadline: Deadline | None = None
) -> dict[str, Any]:
    whatif = whatif or WhatIf()
    arn = analysis.resolve(principal, what="principal")
    entry = analysis.estate.principals.get(arn)
    if entry is None:
        from iamgraph.errors import InputError

        raise InputError(f'"{arn}" is not a user, role or account of the snapshot', element="principal")
    cat = get_catalog()
    candidates: set[str] = set()
    for pol in entry.identity:
        for st in pol.statements:
            if st.effect is not Effect.ALLOW:
                continue
            if st.not_action:
                candidates.update(cat.expand_not(st.actions))
            else:
                for pattern in st.actions:
                    candidates.update(cat.expand(pattern))
    statements = [st for pol in (*entry.identity, *entry.boundaries) for st in pol.statements]
    statements += [st for level in entry.scps for pol in level.policies for st in pol.statements]
    classes: dict[tuple[tuple[bool, ...], bool], list[str]] = defaultdict(list)
    for action in sorted(candidates):
        check(deadline)
        mask = tuple(st.action_matcher.matches(action) for st in statements)
        classes[(mask, cat.is_wildcard_only(action))].append(action)
    result: dict[str, dict[str, dict[str, list[str]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for (_, wildcard_only), members in classes.items():
        check(deadline)
        resource = "*" if wildcard_only else "arn:*"
        d = analysis.estate.evaluate(
            entry, members[0], resource, resource_account=entry.account, policy=_delegating(entry.account)
        )
        cond = whatif.resolve(d.residual) if d.possible else False
        if cond is False:
            continue
        state = "allowed" if cond is True else "conditional"
        for action in members:
            level = cat.access_level(action)
            result[action.split(":", 1)[0]][level.value if level else "Unknown"][state].append(action)
    services = {
        svc: {lvl: dict(states) for lvl, states in sorted(levels.items())} for svc, levels in sorted(result.items())
    }
    totals: dict[str, int] = defaultdict(int)
    for levels in services.values():
        for lvl, states in levels.items():
            totals[lvl] += sum(len(v) for v in states.values())
    admin = admin_state(analysis.graph.graph.nodes[arn], whatif)
    return {
        "principal": arn,
        "admin": admin is not False,
        **({"admin_conditions": [expr_to_json(admin)]} if not isinstance(admin, bool) else {}),
        "totals": dict(sorted(totals.items())),
        "services": services,
    }
