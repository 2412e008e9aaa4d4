"""Plain-text renderings for the UI: residual conditions, short labels. Never HTML: the browser shows text."""

from __future__ import annotations

from iamgraph.conditions_text import condition_text, conditions_text

__all__ = ["condition_text", "conditions_text", "shorten"]


def shorten(text: str, limit: int = 36) -> str:
    """At most ``limit`` characters, the end replaced by an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
