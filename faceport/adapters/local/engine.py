"""The engine, called in-process (the local shape's stand-in for the SageMaker endpoint)."""

from __future__ import annotations

from faceport.tasks import OutputFormat


class InProcessEngine:
    """Engine port over `faceport.engine`, imported on first use so that start-up and the
    API code paths never pay for OpenCV and mediapipe."""

    def swap_face(
        self,
        source: bytes,
        target: bytes,
        *,
        target_index: int,
        output_format: OutputFormat,
        timings: dict[str, float] | None = None,
    ) -> bytes:
        from faceport import engine

        result: bytes = engine.swap_face(
            source,
            target,
            target_index=target_index,
            output_format=output_format,
            timings=timings,
        )
        return result
