"""Edge technique modules; importing this package registers every technique family."""

from iamgraph.edges.techniques import (
    assume_role,
    credentials,
    membership,
    passrole,
    policy_versions,
    resource_access,
    self_escalation,
    takeover,
    trust_rewrite,
)

__all__ = [
    "assume_role",
    "credentials",
    "membership",
    "passrole",
    "policy_versions",
    "resource_access",
    "self_escalation",
    "takeover",
    "trust_rewrite",
]
