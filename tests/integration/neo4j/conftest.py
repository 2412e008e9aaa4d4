"""A real Neo4j for the store tests: the URI from the environment, or a server started here.

``make test`` starts Neo4j with tools/neo4j/neo4j.sh and sets IAMGRAPH_TEST_NEO4J_URI. Without it, the
fixture starts the server itself when Java and Maven are present. In CI (CI=true) a missing server
fails the tests; elsewhere, without Java or Maven, they are skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from iamgraph.graph.queries import Analysis
from iamgraph.ingest import load_snapshot

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "tools" / "neo4j" / "neo4j.sh"
PASSWORD = os.environ.get("IAMGRAPH_TEST_NEO4J_PASSWORD", "iamgraph-test")
DATASETS = ("demo-org", "generated")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def neo4j_uri() -> Iterator[str]:
    uri = os.environ.get("IAMGRAPH_TEST_NEO4J_URI")
    if uri:
        yield uri
        return
    if not (shutil.which("java") and shutil.which("mvn")):
        if in_ci():
            pytest.fail("CI needs Neo4j: IAMGRAPH_TEST_NEO4J_URI is not set and Java 17 / Maven are missing")
        pytest.skip("no Neo4j: set IAMGRAPH_TEST_NEO4J_URI, or install Java 17 and Maven")
    with tempfile.TemporaryDirectory(prefix="iamgraph-neo4j-") as state:
        env = {
            **os.environ,
            "IAMGRAPH_NEO4J_PORT": str(free_port()),
            "IAMGRAPH_NEO4J_STATE": state,
            "NEO4J_PASSWORD": PASSWORD,
        }
        started = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True)
        if started.returncode != 0:
            pytest.fail(f"could not start Neo4j: {started.stderr[-2000:]}")
        try:
            yield started.stdout.strip().splitlines()[-1]
        finally:
            subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, text=True)


def _generated(tmp: Path) -> Path:
    """A generated estate (bench/generate.py), or the small organization fixture without it."""
    generator = ROOT / "bench" / "generate.py"
    if not generator.exists():
        return ROOT / "fixtures" / "small" / "org"
    out = tmp / "estate"
    args = ["--principals", "300", "--accounts", "3", "--resources", "300", "--seed", "7", "--out", str(out)]
    subprocess.run([sys.executable, str(generator), *args], check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def analyses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Analysis]:
    """Each dataset analysed once per session (the reference answers come from these)."""
    cache: dict[str, Analysis] = {}

    class Lazy(dict[str, Analysis]):
        def __missing__(self, name: str) -> Analysis:
            if name == "demo-org":
                path = ROOT / "fixtures" / "demo-org"
            else:
                path = _generated(tmp_path_factory.mktemp("generated"))
            cache[name] = self[name] = Analysis.of(load_snapshot(path))
            return cache[name]

    return Lazy()
