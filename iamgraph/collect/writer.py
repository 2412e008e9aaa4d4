"""Writing the snapshot directory: only there, each file atomically (a hidden temporary file renamed into
place, so an interruption never leaves half a file under a name ingest reads), readable by the owner only
(the snapshot describes who can reach what, and holds the credential report)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from iamgraph.collect.account import dumps
from iamgraph.collect.aws import CollectError

__all__ = ["REPORT", "SnapshotWriter"]

REPORT = "collection-report.json"
ORGANIZATION = "organization.json"


class SnapshotWriter:
    def __init__(self, root: Path) -> None:
        self.root = root

    def check(self) -> None:
        """Refuse a path that is a file or a directory with anything in it (no mixing of two snapshots)."""
        if self.root.exists() and (not self.root.is_dir() or any(self.root.iterdir())):
            raise CollectError(f"{self.root}: exists and is not an empty directory (choose a new one)")

    def create(self) -> None:
        self.check()
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            (self.root / "accounts").mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise CollectError(f"{self.root}: cannot create ({exc.strerror})") from None

    def organization(self, document: dict[str, Any]) -> None:
        self._write(self.root / ORGANIZATION, dumps(document))

    def report(self, document: dict[str, Any]) -> None:
        self._write(self.root / REPORT, dumps(document))

    def account(self, account_id: str, files: dict[str, bytes]) -> None:
        folder = self.root / "accounts" / account_id
        folder.mkdir(mode=0o700, exist_ok=True)
        for name, content in files.items():
            self._write(folder / name, content)

    @staticmethod
    def _write(path: Path, content: bytes) -> None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
