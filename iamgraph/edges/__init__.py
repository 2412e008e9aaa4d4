"""Edge derivation: one module per technique family under techniques/, looked up in a registry."""

from iamgraph.edges.base import DerivedEdge, EdgeKind, EdgeTechnique
from iamgraph.edges.registry import register, techniques

__all__ = ["DerivedEdge", "EdgeKind", "EdgeTechnique", "register", "techniques"]
