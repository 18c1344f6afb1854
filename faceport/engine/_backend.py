"""Where a swap backend plugs into the engine's image and video paths.

The classic engine and the neural one (`engine/onnx/`) share everything around the face
itself: decoding, finding faces, the selection rules, following faces through a video,
encoding with the synthetic-media label. What differs is how one selected face is
painted: a `FacePainter` for images, a `VideoFaceRenderer` for the frames of a video.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ._types import Box, Frame, Landmarks, Mask

if TYPE_CHECKING:
    from ._swap import SourceFaces


class FacePainter(Protocol):
    """Paints source face `source_index` over the face at `target_points` (468 mesh
    points) of `frame`, in place; returns the box it wrote and its weights there (the
    frame is unchanged outside the box and wherever the weights are 0)."""

    def __call__(
        self,
        frame: Frame,
        source: SourceFaces,
        source_index: int,
        target_points: Landmarks,
        timings: dict[str, float] | None,
    ) -> tuple[Box, Mask]: ...


class VideoFaceRenderer(Protocol):
    """Paints one source face onto followed faces, frame after frame (in frame order)."""

    def render(self, frame: Frame, face_id: int, points: Landmarks) -> bool:
        """Swap the face at `points` in `frame`, in place; False if nothing was drawn."""

    def forget(self, keep: set[int]) -> None:
        """Drop the state of faces not in `keep` (their tracks ended)."""
