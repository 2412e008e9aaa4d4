"""UI tests: a real server (``iamgraph serve`` in a subprocess) and Debian's Chromium driven by Playwright.

Chromium is never downloaded: the tests drive /usr/bin/chromium (or IAMGRAPH_CHROMIUM) and fail, not skip,
when it is missing. Screenshots go to IAMGRAPH_ARTIFACTS (default: artifacts/, gitignored).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo-org"
HOSTILE = ROOT / "fixtures" / "hostile"
IAMGRAPH = Path(sys.executable).with_name("iamgraph")
CHROMIUM = Path(os.environ.get("IAMGRAPH_CHROMIUM", "/usr/bin/chromium"))
SECRET = "arn:aws:secretsmanager:eu-west-1:846271093514:secret:prod/payments/db-credentials-Xk3p9Q"
GET_SECRET = "secretsmanager:GetSecretValue"
# EXPECTED.md §3.5: the deploy role reads the secret through the resource policy only, Sid AllowDeployRoleRead.
DEPLOY = "arn:aws:iam::846271093514:role/deploy/CrossAccountDeploy"
DEPLOY_SID = "AllowDeployRoleRead"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def artifacts() -> Path:
    out = Path(os.environ.get("IAMGRAPH_ARTIFACTS") or ROOT / "artifacts")
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``iamgraph serve`` over the demo organization ("demo") and the hostile fixture ("hostile")."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "IAMGRAPH_API_TOKEN"}
    env["IAMGRAPH_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    cmd = [str(IAMGRAPH), "serve", "--no-cache", "--port", str(port)]
    cmd += ["--data", str(DEMO), "--name", "demo", "--data", str(HOSTILE), "--name", "hostile"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                names = [s["name"] for s in httpx.get(f"{base}/snapshots", timeout=2).json()["snapshots"]]
                if {"demo", "hostile"} <= set(names):
                    break
            except (httpx.TransportError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        else:
            pytest.fail("server did not load both snapshots")
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the UI tests need Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium) "
            "or point IAMGRAPH_CHROMIUM at a Chromium binary; Playwright's own browser download is not used"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield b
        b.close()


_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


@dataclass
class Watched:
    """A page with everything it requested, every dialog it opened and every error it logged."""

    page: Any
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__csp || []")
        return found


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    w = Watched(page)
    page.add_init_script(_WATCH)

    def dialog(d: Any) -> None:
        w.dialogs.append(d.message)
        d.dismiss()

    def console(m: Any) -> None:
        if m.type == "error":
            w.errors.append(m.text)

    page.on("request", lambda r: w.requests.append(r.url))
    page.on("dialog", dialog)
    page.on("pageerror", lambda e: w.errors.append(str(e)))
    page.on("console", console)
    yield w
    context.close()
