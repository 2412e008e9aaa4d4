"""Storage around the core: the on-disk analysis cache (graph stores come with the Neo4j issue)."""

from iamgraph.store.cache import load_analysis, snapshot_hash

__all__ = ["load_analysis", "snapshot_hash"]
