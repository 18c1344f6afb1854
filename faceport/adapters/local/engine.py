"""The engine, called in-process (the local shape's stand-in for the SageMaker endpoint,
and what the endpoint's container runs).

`faceport.engine` is imported on first use, so that start-up and the API code paths never
pay for OpenCV and mediapipe. `in_process_engine(settings)` picks the backend: the classic
engine, or the neural one on the operator's ONNX models, whose directory is checked there,
at start.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from faceport.errors import EnhanceNotAvailable, InvalidModelDir
from faceport.settings import Settings
from faceport.tasks import OutputFormat, TargetSelection

if TYPE_CHECKING:
    from faceport.engine.onnx import OnnxBackend


def in_process_engine(settings: Settings) -> InProcessEngine:
    """The engine `settings` choose (FACEPORT_ENGINE, FACEPORT_MODEL_DIR); raises
    `InvalidModelDir` when the onnx engine's model directory cannot be used."""
    if settings.engine == "classic":
        return InProcessEngine()
    if settings.model_dir is None:
        raise InvalidModelDir("FACEPORT_ENGINE=onnx needs FACEPORT_MODEL_DIR.")
    from faceport.engine.onnx import load_onnx_backend

    return InProcessEngine(load_onnx_backend(settings.model_dir))


class InProcessEngine:
    """Engine port over `faceport.engine`; with `backend`, faces are swapped by the neural
    backend (fusion and detection stay the classic engine's)."""

    def __init__(self, backend: OnnxBackend | None = None) -> None:
        self.backend = backend

    def describe(self) -> dict[str, Any]:
        """The backend and, for onnx, its provider and models (`faceport engine-info`)."""
        if self.backend is None:
            return {"engine": "classic", "enhance": False}
        return self.backend.describe()

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
        from faceport import engine

        if self.backend is None and enhance:
            raise EnhanceNotAvailable()
        result: bytes = engine.swap_face(
            source,
            target,
            target_index=target_index,
            face_map=face_map,
            output_format=output_format,
            painter=None if self.backend is None else self.backend.painter(enhance=enhance),
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
        enhance: bool = False,
    ) -> dict[str, Any]:
        from faceport import engine

        if self.backend is None and enhance:
            raise EnhanceNotAvailable()
        report = engine.swap_face_video(
            source,
            video,
            output,
            target_index=target_index,
            reference_face=reference_face,
            progress=progress,
            should_stop=should_stop,
            renderer_for=None
            if self.backend is None
            else self.backend.renderer_for(enhance=enhance),
        )
        return report.to_dict()
