"""A byte-bounded LRU of serialised answers: snapshots are immutable, so an answer is a pure function of
(snapshot load, route, request). Repeated queries (a UI re-asking, many clients on one resource) then cost
a dictionary look-up; a deleted or replaced snapshot's answers are never served (its load id differs).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["ResponseCache"]


class ResponseCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, ...], tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self.lookups = self.hits = 0

    def get(self, key: tuple[str, ...]) -> tuple[bytes, str] | None:
        with self._lock:
            self.lookups += 1
            hit = self._items.get(key)
            if hit is not None:
                self.hits += 1
                self._items.move_to_end(key)
            return hit

    def put(self, key: tuple[str, ...], body: bytes, bounds: str) -> None:
        if len(body) > self.max_bytes // 8:  # one huge answer must not flush everything else
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old[0])
            self._items[key] = (body, bounds)
            self._size += len(body)
            while self._size > self.max_bytes and self._items:
                _, (dropped, _) = self._items.popitem(last=False)
                self._size -= len(dropped)
