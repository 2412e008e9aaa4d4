"""Drive the differential-testing oracle (an independent IAM simulator, AGPL, installed at run time).

Nothing of the oracle is kept in this repository: the oracle folder (a copy of the shared
``iam-simulate-oracle`` tool) is located, installed into a temporary directory with ``npm install``
when it has no ``node_modules``, and its ``eval.mjs`` is driven through a long-lived ``node`` process
that reads one neutral-schema case per line and answers one JSON line per case.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["Oracle", "find_oracle_dir", "installed_oracle_dir"]

REPO_ROOT = Path(__file__).resolve().parent.parent
# The shared tools folder sits next to the repository checkout.
_RELATIVE_CANDIDATES = ("../shared/tools/iam-simulate-oracle",)

# Our own line server: imports evaluateCase from the oracle's eval.mjs and answers case by case.
_SERVER = r"""
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
const [dir, engine] = process.argv.slice(1)
const { evaluateCase } = await import(pathToFileURL(join(dir, 'eval.mjs')).href)
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (!line.trim()) continue
  let out
  try {
    out = await evaluateCase(JSON.parse(line), engine)
  } catch (e) {
    out = { decision: null, error: String(e?.message || e) }
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}
"""


def find_oracle_dir(explicit: str | None) -> Path | None:
    """The oracle folder given on the command line, else the shared one next to the repository."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    for rel in _RELATIVE_CANDIDATES:
        candidate = (REPO_ROOT / rel).resolve()
        if (candidate / "eval.mjs").is_file():
            return candidate
    return None


def installed_oracle_dir(folder: Path) -> Path:
    """``folder`` if its dependencies are installed, else a temporary copy with ``npm install`` run."""
    if (folder / "node_modules").is_dir():
        return folder
    if not (folder / "eval.mjs").is_file():
        raise FileNotFoundError(f"{folder} has no eval.mjs: not an oracle folder")
    target = Path(tempfile.mkdtemp(prefix="iam-oracle-"))
    shutil.copytree(folder, target, dirs_exist_ok=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=target, check=True)
    return target


class Oracle:
    """A persistent ``node`` process evaluating neutral decision cases with the oracle."""

    def __init__(self, folder: Path, engine: str = "core", batch: int = 200) -> None:
        self.folder = folder
        self.engine = engine
        self.batch = batch
        self._proc = subprocess.Popen(
            ["node", "--input-type=module", "-e", _SERVER, "--", str(folder), engine],
            cwd=folder,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def evaluate_many(self, cases: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Results in input order; cases are written in batches small enough not to fill the pipes."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        pending: list[str] = []
        for case in cases:
            pending.append(json.dumps(case, separators=(",", ":")))
            if len(pending) >= self.batch:
                yield from self._flush(pending)
                pending = []
        if pending:
            yield from self._flush(pending)

    def evaluate(self, case: dict[str, Any]) -> dict[str, Any]:
        return next(iter(self.evaluate_many([case])))

    def _flush(self, lines: list[str]) -> Iterator[dict[str, Any]]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write("\n".join(lines) + "\n")
        self._proc.stdin.flush()
        for _ in lines:
            line = self._proc.stdout.readline()
            if not line:
                raise RuntimeError("the oracle process ended unexpectedly")
            yield json.loads(line)

    def version(self) -> str:
        pkg = self.folder / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json"
        try:
            return str(json.loads(pkg.read_text())["version"])
        except (OSError, ValueError, KeyError):
            return "unknown"

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=30)

    def __enter__(self) -> Oracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
