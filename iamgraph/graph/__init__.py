"""The access graph: estate view, building, admin detection (queries come with the query layer)."""

from iamgraph.graph.build import build_graph, summary
from iamgraph.graph.estate import Estate
from iamgraph.graph.model import AccessGraph, NodeKind

__all__ = ["AccessGraph", "Estate", "NodeKind", "build_graph", "summary"]
