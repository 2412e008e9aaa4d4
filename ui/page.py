"""HTML pages: the served explorer and the standalone evidence file, from our own Jinja templates.

Estate data reaches a page only as JSON inside ``<script type="application/json">`` (with ``<``, ``>``,
``&``, U+2028 and U+2029 escaped, so no string can close the block), and the page's script renders it with
``textContent``. The served page loads its scripts from ``ui/static`` under a ``script-src 'self'`` policy;
the standalone file inlines them and allows exactly those scripts by their sha256 hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from iamgraph import __version__
from ui.styles import legend

__all__ = [
    "ASSETS",
    "SERVED_CSP",
    "asset",
    "explorer_page",
    "script_json",
    "sha256_source",
    "standalone_csp",
    "standalone_page",
]

HERE = Path(__file__).resolve().parent
SERVED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_VIS = ("templates", "lib", "vis-9.1.2", "vis-network.min.js")
# Served under /ui/static/<name>: name -> media type (the files are ours, or vis-network bundled with pyvis).
ASSETS = {
    "explorer.js": "text/javascript; charset=utf-8",
    "explorer.css": "text/css; charset=utf-8",
    "vis-network.min.js": "text/javascript; charset=utf-8",
}


def _pyvis_dir() -> Path:
    import pyvis  # type: ignore[import-untyped]

    return Path(pyvis.__file__).resolve().parent


@cache
def asset(name: str) -> str:
    """The text of a static asset (KeyError for anything not in ``ASSETS``)."""
    if name not in ASSETS:
        raise KeyError(name)
    path = _pyvis_dir().joinpath(*_VIS) if name == "vis-network.min.js" else HERE / "static" / name
    text = path.read_text(encoding="utf-8")
    if "</script" in text.lower() or "<!--" in text:
        raise ValueError(f"{name} cannot be inlined in a script element")  # never true of the shipped files
    return text


def script_json(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>``, ``&``, U+2028/2029 left raw."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    for raw, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def sha256_source(text: str) -> str:
    """A CSP source expression allowing exactly this inline script or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def standalone_csp(scripts: list[str], styles: list[str]) -> str:
    return (
        "default-src 'none'; "
        f"script-src {' '.join(sha256_source(s) for s in scripts)}; "
        f"style-src {' '.join(sha256_source(s) for s in styles)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def explorer_page(limits: dict[str, int] | None = None) -> str:
    """The served explorer (no estate data in it: the page asks the API); ``limits``: the server's bounds."""
    boot = {"mode": "live", "version": __version__, "limits": limits or {}}
    return (
        _env()
        .get_template("explorer.html")
        .render(title="iamgraph explorer", boot=Markup(script_json(boot)), legend=legend(), version=__version__)
    )


def standalone_page(payload: dict[str, Any]) -> str:
    """One self-contained HTML file for a view payload (``{"view", "network"}``): no network access at all."""
    scripts = [asset("vis-network.min.js"), asset("explorer.js")]
    styles = [asset("explorer.css")]
    boot = {"mode": "static", "version": __version__, **payload}
    return (
        _env()
        .get_template("standalone.html")
        .render(
            title=f"iamgraph: {payload['view']['title']}",
            view=payload["view"],
            boot=Markup(script_json(boot)),
            csp=standalone_csp(scripts, styles),
            scripts=[Markup(s) for s in scripts],
            styles=[Markup(s) for s in styles],
            legend=legend(),
            version=__version__,
        )
    )
