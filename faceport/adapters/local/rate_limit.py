"""Requests per second per API key, in memory: one token bucket per key (one process owns
the local shape, so memory is the whole truth)."""

from __future__ import annotations

import math
import threading
import time

from faceport.errors import RateLimited


class TokenBucketLimiter:
    """RateLimiter: `per_s` requests per second sustained, `burst` at once."""

    def __init__(self, per_s: float, burst: int) -> None:
        self._per_s = per_s
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)
        self._lock = threading.Lock()

    def acquire(self, key_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._per_s)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self._per_s)
                raise RateLimited(retry_after_s=max(1, wait))
            self._buckets[key_id] = (tokens - 1.0, now)
