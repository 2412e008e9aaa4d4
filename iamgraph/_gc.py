"""Pausing the cyclic garbage collector around bulk allocation (loading a snapshot, building or unpickling a
graph). Pure: no I/O, importable from every layer."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_held", "collector_paused", "freeze"]

# whether this process has frozen objects through ``freeze``: ``gc.get_freeze_count`` would tell, but it counts
# them one by one (2.8 s with a 50,000-principal graph frozen)
_frozen = False


def freeze() -> None:
    """``gc.freeze``, remembered: :func:`collector_paused` then knows that objects are frozen without counting
    them. Only ever used to skip an optimisation, so an ``gc.unfreeze`` elsewhere costs nothing but that."""
    global _frozen
    gc.freeze()
    _frozen = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused, for work that allocates millions of long-lived objects and next
    to no cyclic garbage (loading a snapshot, building a graph, unpickling or indexing one): every full
    collection those allocations trigger walks all of them again (15 % of a 500-principal build; loading a
    cached graph 4-5x slower; loading the 50,000-principal snapshot 2x slower).

    On the way out, what was allocated meanwhile goes straight to the oldest generation (``gc.freeze`` then
    ``gc.unfreeze``, two list splices) instead of being walked by the young collections the first
    allocations after ``gc.enable`` trigger: 0.1-0.2 s after an 800-principal build. They stay collectable;
    only the next full collection sees them. Skipped when objects are frozen already (a server's loaded
    snapshots, ``load_analysis(freeze=True)``): ``unfreeze`` would hand those back to the collector. Frozen
    by :func:`freeze` is known at once; else ``gc.get_freeze_count`` counts them."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            # before the collector is back on: the first allocation after ``gc.enable`` (a frame, an exception
            # state) would run a young collection over everything made meanwhile (4.3 s after a 50,000-principal
            # build, when this was done on the way out of a ``collector_held``)
            if not _frozen and gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@contextmanager
def collector_held() -> Iterator[None]:
    """The cyclic garbage collector paused, and nothing more, around work that makes many objects in no cycle:
    a query's large answer (a whole who-can answer at 50,000 principals spent about a third of its time in
    the collections its dicts and lists triggered), the pickler's memo while a graph is written to the
    cache, a server's start-up (which freezes what it made afterwards). What was made meanwhile is looked
    at once, by the first young collection afterwards.

    Unlike :func:`collector_paused`, no settling on the way out, so no ``gc.get_freeze_count``, which counts
    the frozen objects one by one (2.8 s with a built 50,000-principal graph frozen)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
