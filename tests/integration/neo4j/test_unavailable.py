"""A Neo4j that is down or refuses the credentials gives one clear error: StoreUnavailable, CLI exit 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from iamgraph.cli import app
from iamgraph.errors import IamGraphError, StoreUnavailable
from iamgraph.store.neo4j_store import Neo4jStore

from .conftest import PASSWORD, free_port


def test_server_down_is_store_unavailable() -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailable, match="is unavailable") as err:
        Neo4jStore(uri, user="neo4j", password="x", timeout=3)
    assert isinstance(err.value, IamGraphError) and uri in str(err.value)


def test_cli_server_down_exits_2_with_one_line() -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["privesc", "--store", "neo4j", "--uri", uri, "--password", "x"])
    assert result.exit_code == 2
    assert "is unavailable" in result.output and "Traceback" not in result.output


@pytest.mark.skipif(not PASSWORD, reason="the test server runs without auth")
def test_refused_credentials(neo4j_uri: str) -> None:
    with pytest.raises(StoreUnavailable, match="refused the credentials"):
        Neo4jStore(neo4j_uri, user="neo4j", password=PASSWORD + "-wrong")
    result = CliRunner().invoke(
        app, ["exposure", "--store", "neo4j", "--uri", neo4j_uri, "--user", "neo4j", "--password", "wrong"]
    )
    assert result.exit_code == 2 and "refused the credentials" in result.output
