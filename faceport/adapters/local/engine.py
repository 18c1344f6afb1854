"""The engine, called in-process (the local shape's stand-in for the SageMaker endpoint).

`faceport.engine` is imported on first use, so that start-up and the API code paths never
pay for OpenCV and mediapipe.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from faceport.tasks import OutputFormat, TargetSelection


class InProcessEngine:
    """Engine port over `faceport.engine`."""

    def swap_face(
        self,
        source: bytes,
        target: bytes,
        *,
        target_index: TargetSelection,
        face_map: list[tuple[int, int]] | None,
        output_format: OutputFormat,
    ) -> bytes:
        from faceport import engine

        result: bytes = engine.swap_face(
            source,
            target,
            target_index=target_index,
            face_map=face_map,
            output_format=output_format,
        )
        return result

    def fuse_faces(
        self, donor: bytes, template: bytes, *, similarity: float, output_format: OutputFormat
    ) -> bytes:
        from faceport import engine

        result: bytes = engine.fuse_faces(
            donor, template, similarity=similarity, output_format=output_format
        )
        return result

    def detect_faces(self, image: bytes) -> list[dict[str, Any]]:
        from faceport import engine

        return [face.to_dict() for face in engine.detect_faces_in_image(image)]

    def swap_face_video(
        self,
        source: bytes,
        video: Path,
        output: Path,
        *,
        target_index: int | Literal["all"],
        reference_face: bytes | None,
        progress: Callable[[float], None],
        should_stop: Callable[[], bool],
    ) -> dict[str, Any]:
        from faceport import engine

        report = engine.swap_face_video(
            source,
            video,
            output,
            target_index=target_index,
            reference_face=reference_face,
            progress=progress,
            should_stop=should_stop,
        )
        return report.to_dict()
