"""Fakes of the ports that stand in where the real thing would only be slow."""

from __future__ import annotations

import threading

from faceport.errors import NoFaceInSource
from faceport.tasks import OutputFormat

NO_FACE_MARKER = b"no-face"


class FakeEngine:
    """An engine that 'swaps' by returning the target unchanged, after an optional delay.

    A source containing `NO_FACE_MARKER` fails like a real image without a face would.
    `gate`, when set, holds every call until the test opens it.
    """

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls = 0
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def swap_face(
        self,
        source: bytes,
        target: bytes,
        *,
        target_index: int,
        output_format: OutputFormat,
        timings: dict[str, float] | None = None,
    ) -> bytes:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.delay_s:
            threading.Event().wait(self.delay_s)
        if NO_FACE_MARKER in source:
            raise NoFaceInSource()
        return target
