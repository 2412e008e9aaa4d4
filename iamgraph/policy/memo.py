"""Per-process memos of pure functions on pattern strings, registered so they can be cleared together.

Compiling one ARN or action pattern, splitting one condition operator name or building the matcher of
one Action element gives the same immutable answer every time, and a real estate repeats the same
patterns across thousands of statements (managed policies, SCPs, per-account copies of one role). The
memos hold only such answers, never parsed documents: parsing a policy always walks and validates it.

``clear_memos()`` empties every registered memo; the throughput benchmark uses it to report the figure
without any memo help (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import _lru_cache_wrapper, lru_cache
from typing import Any, TypeVar

__all__ = ["clear_memos", "memo", "memo_sizes"]

F = TypeVar("F", bound=Callable[..., Any])

_MEMOS: list[_lru_cache_wrapper[Any]] = []


def memo(maxsize: int = 65536) -> Callable[[F], F]:
    """``functools.lru_cache`` that registers the memo with :func:`clear_memos`."""

    def wrap(fn: F) -> F:
        cached = lru_cache(maxsize=maxsize)(fn)
        _MEMOS.append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def clear_memos() -> None:
    """Empty every registered memo (benchmarks and tests; never needed for correctness)."""
    for m in _MEMOS:
        m.cache_clear()


def memo_sizes() -> dict[str, int]:
    """Entries per memo, by qualified function name."""
    return {f"{m.__module__}.{m.__qualname__}": m.cache_info().currsize for m in _MEMOS}
