"""A small thread-safe LRU cache, for analyses of images that come back call after call."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


def content_digest(data: bytes) -> str:
    """Return a hash of `data` that names its content (same bytes, same digest)."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


class LruCache(Generic[Value]):
    """At most `capacity` entries; the least recently used one goes first.

    A lock guards the table only, never a computation: two threads that miss on the same
    key both compute, and the second `put` wins (the values are equal anyway).
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Value | None:
        """Return the value under `key` (marking it recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: Value) -> None:
        """Store `value` under `key`, dropping the least recently used entry when full."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._entries.clear()
            self.hits = 0
            self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
