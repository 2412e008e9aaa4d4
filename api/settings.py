"""API configuration from the environment (prefix ``IAMGRAPH_``) or ``iamgraph serve`` flags.

The Neo4j connection also reads the variables the CLI uses (``NEO4J_URI``, ``NEO4J_USER``,
``NEO4J_PASSWORD``); an ``IAMGRAPH_NEO4J_*`` variable wins over its plain twin.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LOOPBACK_HOSTS", "Settings", "StoreKind", "get_settings", "is_loopback"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
MiB = 1024 * 1024
StoreKind = Literal["memory", "neo4j"]


def _env(name: str) -> AliasChoices:
    """A setting read from IAMGRAPH_<NAME>, else from <NAME> (the CLI's Neo4j variables)."""
    return AliasChoices(f"iamgraph_{name}", name)


class Settings(BaseSettings):
    """Every knob of the server; limits bound each request so none can exhaust a worker."""

    model_config = SettingsConfigDict(env_prefix="IAMGRAPH_", extra="ignore", frozen=True)

    api_token: SecretStr | None = Field(None, description="Bearer token required on every route but health")
    data: str = Field("", description="Snapshot directories loaded at start-up, separated by the path separator")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    use_cache: bool = Field(True, description="Use the on-disk analysis cache (IAMGRAPH_CACHE_DIR)")
    resource_access: Literal["auto", "eager", "on-demand"] = Field(
        "auto",
        description="Build every access edge (eager), those onto a resource when a query reaches it (on-demand), "
        "or eager up to 10,000 principals and on demand above (auto)",
    )
    allow_upload: bool = Field(True, description="Accept POST /snapshots")
    max_snapshots: int = Field(8, ge=1)
    max_upload_bytes: int = Field(50 * MiB, ge=1, description="Largest accepted archive")
    max_uncompressed_bytes: int = Field(500 * MiB, ge=1, description="Largest total size unpacked from an archive")
    max_archive_files: int = Field(20_000, ge=1, description="Most files (and folders) in an archive")
    max_depth: int = Field(12, ge=1, le=50, description="Largest max_depth a query may ask for")
    max_paths: int = Field(200, ge=1, description="Largest number of paths (path --all) a query may ask for")
    max_nodes: int = Field(1000, ge=1, description="Largest neighbourhood or search result")
    max_documents: int = Field(1000, ge=1, description="Most simulation documents per POST /simulate")
    max_body_bytes: int = Field(5 * MiB, ge=1, description="Largest JSON request body (uploads: max_upload_bytes)")
    response_cache_bytes: int = Field(64 * MiB, ge=0, description="Memory for cached answers (0: no cache)")
    query_time_budget_s: float = Field(10.0, ge=0, description="Time budget of one query, in seconds")
    query_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Queries computed at once in a server process; the others wait their turn, outside the time budget",
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Server processes (store memory): forked once the snapshots are loaded, sharing their memory; "
        "above 1, snapshots can be neither uploaded nor deleted",
    )
    worker_max_private_mb: int = Field(
        4096,
        ge=0,
        description="With several workers: memory a worker may make its own (pages it wrote to) after it began "
        "serving, before a fresh fork replaces it (0: no limit; its prefault is not counted)",
    )
    worker_prefault: bool = Field(
        False,
        description="With several workers: each reads every edge of the loaded snapshots before it accepts "
        "connections, so that its first queries do not wait for the kernel to copy the shared pages they touch "
        "(at 5,000 principals: about 5 s and 1.1 GB of pages a worker; no throughput gain shown at 5k, so off)",
    )
    store: StoreKind = Field("memory", description="memory: snapshots analysed in this process; neo4j: a database")
    neo4j_uri: str = Field("", validation_alias=_env("neo4j_uri"), description="Bolt URI (store neo4j)")
    neo4j_user: str = Field("neo4j", validation_alias=_env("neo4j_user"), description="Neo4j user")
    neo4j_password: SecretStr | None = Field(
        None, validation_alias=_env("neo4j_password"), description="Neo4j password"
    )
    neo4j_timeout_s: float = Field(5.0, gt=0, description="Neo4j connection timeout, in seconds")
    snapshots: str = Field("", description="Neo4j snapshots served, comma-separated (first: default); empty: all")

    @field_validator("api_token", "neo4j_password", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        """An empty variable (``IAMGRAPH_API_TOKEN=``) is no secret: treated as unset, never as ""."""
        if value == "" or (isinstance(value, SecretStr) and not value.get_secret_value()):
            return None
        return value

    def data_dirs(self) -> list[Path]:
        return [Path(p) for p in self.data.split(os.pathsep) if p.strip()]

    def snapshot_names(self) -> list[str]:
        return [n.strip() for n in self.snapshots.split(",") if n.strip()]


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
