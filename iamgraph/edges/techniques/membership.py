"""Membership: user -> group. Informational (a user's permissions already include its groups')."""

from __future__ import annotations

from collections.abc import Iterator

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.edges.registry import register
from iamgraph.graph.estate import Estate

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_K_MEMBER = EdgeKind.MEMBER

__all__ = ["memberships"]


@register("membership", "membership", "a user is a member of a group")
def memberships(estate: Estate) -> Iterator[DerivedEdge]:
    for account in estate.snapshot.accounts.values():
        for user in account.users.values():
            for group in user.group_arns:
                yield DerivedEdge(source=user.arn, target=group, kind=_K_MEMBER, technique="membership")
