"""Serialisers of graphs and results; they never compute."""

from iamgraph.export.graph_formats import to_cypher, to_graphml, to_json

__all__ = ["to_cypher", "to_graphml", "to_json"]
