"""Edge technique modules; importing this package registers every technique family."""

from iamgraph.edges.techniques import assume_role, membership, resource_access

__all__ = ["assume_role", "membership", "resource_access"]
