"""The one query layer every surface uses (CLI, API, UI); each answer carries the proof of every hop."""

from iamgraph.graph.queries.access_levels import access_levels
from iamgraph.graph.queries.base import Analysis, NodeNotFound
from iamgraph.graph.queries.diff import diff
from iamgraph.graph.queries.exposure import exposure
from iamgraph.graph.queries.paths import can, find_paths
from iamgraph.graph.queries.privesc import privesc
from iamgraph.graph.queries.whatif import AssumeUnknown, WhatIf, parse_context_pairs
from iamgraph.graph.queries.who_can import who_can

__all__ = [
    "Analysis",
    "AssumeUnknown",
    "NodeNotFound",
    "WhatIf",
    "access_levels",
    "can",
    "diff",
    "exposure",
    "find_paths",
    "parse_context_pairs",
    "privesc",
    "who_can",
]
