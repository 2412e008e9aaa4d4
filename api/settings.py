"""API configuration from the environment (prefix ``IAMGRAPH_``) or ``iamgraph serve`` flags."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LOOPBACK_HOSTS", "Settings", "get_settings", "is_loopback"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
MiB = 1024 * 1024


class Settings(BaseSettings):
    """Every knob of the server; limits bound each request so none can exhaust a worker."""

    model_config = SettingsConfigDict(env_prefix="IAMGRAPH_", extra="ignore", frozen=True)

    api_token: SecretStr | None = Field(None, description="Bearer token required on every route but health")
    data: str = Field("", description="Snapshot directories loaded at start-up, separated by the path separator")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    use_cache: bool = Field(True, description="Use the on-disk analysis cache (IAMGRAPH_CACHE_DIR)")
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

    def data_dirs(self) -> list[Path]:
        return [Path(p) for p in self.data.split(os.pathsep) if p.strip()]


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
