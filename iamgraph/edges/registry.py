"""The registry of edge techniques: adding a technique family is adding one module."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from iamgraph.edges.base import DerivedEdge, EdgeTechnique

if TYPE_CHECKING:
    from iamgraph.graph.estate import Estate

__all__ = ["TECHNIQUES", "register", "techniques"]

TECHNIQUES: dict[str, EdgeTechnique] = {}

Derive = Callable[["Estate"], Iterable[DerivedEdge]]


def register(name: str, family: str, description: str = "") -> Callable[[Derive], Derive]:
    """Decorator: register ``derive(estate)`` under ``name`` (unique) and ``family``."""

    def wrap(fn: Derive) -> Derive:
        if name in TECHNIQUES:
            raise ValueError(f"edge technique {name} registered twice")
        TECHNIQUES[name] = EdgeTechnique(name=name, family=family, derive=fn, description=description)
        return fn

    return wrap


def techniques() -> tuple[EdgeTechnique, ...]:
    """Every registered technique (importing the technique modules registers them)."""
    import iamgraph.edges.techniques  # noqa: F401  (side effect: registration)

    return tuple(TECHNIQUES.values())
