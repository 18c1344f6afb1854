"""Requests per second per API key, in memory: one token bucket per key (one process owns
the local shape, so memory is the whole truth)."""

from __future__ import annotations

import math
import threading
import time

from faceport.accounts import RateQuota
from faceport.errors import RateLimited


class TokenBucketLimiter:
    """RateLimiter: `per_s` requests per second sustained, `burst` at once."""

    def __init__(self, per_s: float, burst: int) -> None:
        self._per_s = per_s
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)
        self._lock = threading.Lock()

    def acquire(self, key_id: str) -> RateQuota:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._per_s)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / self._per_s))
                raise RateLimited(retry_after_s=wait, quota=self._quota(tokens))
            self._buckets[key_id] = (tokens - 1.0, now)
            return self._quota(tokens - 1.0)

    def _quota(self, tokens: float) -> RateQuota:
        # A bucket is "reset" when it is full again.
        refill = math.ceil((self._burst - tokens) / self._per_s)
        return RateQuota(limit=int(self._burst), remaining=int(tokens), reset_s=refill)
