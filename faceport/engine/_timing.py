"""Per-stage timing of the engine's work, for benchmarks and the `timings` argument."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def timed_stage(timings: dict[str, float] | None, name: str) -> Iterator[None]:
    """Add the seconds the block takes to `timings[name]` (when timings is given)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
