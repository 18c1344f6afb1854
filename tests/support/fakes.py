"""Fakes of the ports that stand in where the real thing would only be slow."""

from __future__ import annotations

import threading
from typing import Any

from faceport.errors import NoFaceInSource
from faceport.tasks import OutputFormat, TargetSelection

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
        self.last_options: dict[str, Any] = {}

    def _call(self, source: bytes) -> None:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.delay_s:
            threading.Event().wait(self.delay_s)
        if NO_FACE_MARKER in source:
            raise NoFaceInSource()

    def swap_face(
        self,
        source: bytes,
        target: bytes,
        *,
        target_index: TargetSelection,
        face_map: list[tuple[int, int]] | None,
        output_format: OutputFormat,
        enhance: bool = False,
    ) -> bytes:
        self._call(source)
        self.last_options = {
            "target_index": target_index,
            "face_map": face_map,
            "enhance": enhance,
        }
        return target

    def fuse_faces(
        self, donor: bytes, template: bytes, *, similarity: float, output_format: OutputFormat
    ) -> bytes:
        self._call(donor)
        self.last_options = {"similarity": similarity}
        return template

    def detect_faces(self, image: bytes) -> list[dict[str, Any]]:
        """One made-up face per image, so the plumbing can be checked without the engine."""
        self._call(image)
        box = {"x": 1, "y": 2, "width": 3, "height": 4}
        return [{"index": 0, "box": box, "score": 0.9, "landmarks": [(1.0, 2.0)] * 5}]
