"""One moto server per test session (real HTTP on a loopback port), the estate built in it once, and a
helper that runs ``iamgraph collect`` through the CLI with credentials from the environment only."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from iamgraph.cli import app

from .estate import ACCESS_SECRET, Estate, build_estate

moto_server = pytest.importorskip("moto.server")


def aws_env(tmp: Path, endpoint: str) -> dict[str, str | None]:
    """boto3's environment: credentials, region, and no config files of this machine."""
    return {
        "AWS_ACCESS_KEY_ID": "AKIACOLLECTORTEST",
        "AWS_SECRET_ACCESS_KEY": ACCESS_SECRET,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": None,
        "AWS_CONFIG_FILE": str(tmp / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": None,
        "IAMGRAPH_AWS_ENDPOINT_URL": endpoint,
    }


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def estate(moto_url: str) -> Estate:
    return build_estate(moto_url)


def collect(tmp: Path, endpoint: str, *args: str) -> Result:
    """``iamgraph collect ARGS`` through the CLI entry point, talking to ``endpoint``."""
    return CliRunner(env=aws_env(tmp, endpoint)).invoke(app, ["collect", *args], catch_exceptions=False)
