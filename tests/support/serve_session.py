"""One real `faceport serve` process for a whole test session (the SDK, remote CLI,
reference and playground tests share it): a loopback port, the real engine, a dev account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tests.e2e.test_serve import Server, free_port, start_server, stop


def served_session(data_dir: Path) -> Iterator[Server]:
    """A started server (progress written often, so that it is seen moving)."""
    running = start_server(data_dir, free_port(), FACEPORT_PROGRESS_INTERVAL_S="0.05")
    try:
        yield running
    finally:
        stop(running)
