"""Snapshot readers: the only file I/O of the core (docs/snapshot-format.md)."""

from iamgraph.ingest.load import load_snapshot

__all__ = ["load_snapshot"]
