"""The iamgraph HTTP API (FastAPI)."""
