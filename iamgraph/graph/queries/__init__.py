"""The one query layer every surface uses (CLI, API, UI); each answer carries the proof of every hop."""

from iamgraph.graph.queries.access_levels import access_levels
from iamgraph.graph.queries.base import Analysis, NodeNotFound
from iamgraph.graph.queries.budget import Deadline, LimitExceeded
from iamgraph.graph.queries.diff import diff
from iamgraph.graph.queries.explore import SearchIndex, edge_details, neighbourhood, node_details, search
from iamgraph.graph.queries.exposure import exposure
from iamgraph.graph.queries.paths import can, find_paths
from iamgraph.graph.queries.privesc import privesc
from iamgraph.graph.queries.whatif import AssumeUnknown, WhatIf, parse_context_pairs
from iamgraph.graph.queries.who_can import who_can

__all__ = [
    "Analysis",
    "AssumeUnknown",
    "Deadline",
    "LimitExceeded",
    "NodeNotFound",
    "SearchIndex",
    "WhatIf",
    "access_levels",
    "can",
    "diff",
    "edge_details",
    "exposure",
    "find_paths",
    "neighbourhood",
    "node_details",
    "parse_context_pairs",
    "privesc",
    "search",
    "who_can",
]
