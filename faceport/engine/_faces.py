"""Face detection as a service: every face of an image with its box, score and 5 points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._codec import decode_image
from ._detect import detect_scored_faces
from ._landmarks import five_point_landmarks, locate_landmarks
from ._swap import DEFAULT_SETTINGS, EngineSettings


@dataclass(frozen=True)
class DetectedFace:
    """One face of an image.

    `index` is the position `target_index` (and a face map) uses: largest face first.
    `box` is (x, y, width, height) in pixels of the original image. `score` is the HOG
    detector's confidence (higher is surer; it is not a probability). `landmarks5` are the
    left eye centre, right eye centre, nose tip, left and right mouth corners as (x, y),
    sides as seen in the image; None when the landmark mesh could not lock on to the face
    (the face is still listed so indexes stay those the swap uses).
    """

    index: int
    box: tuple[int, int, int, int]
    score: float
    landmarks5: tuple[tuple[float, float], ...] | None

    def to_dict(self) -> dict[str, Any]:
        """Return the face as JSON-ready values (lists, ints and floats)."""
        return {
            "index": self.index,
            "box": dict(zip(("x", "y", "width", "height"), self.box, strict=True)),
            "score": self.score,
            "landmarks": (
                None if self.landmarks5 is None else [list(point) for point in self.landmarks5]
            ),
        }


def detect_faces_in_image(
    data: bytes, *, settings: EngineSettings = DEFAULT_SETTINGS
) -> list[DetectedFace]:
    """Return every face found in the image bytes, largest first (the swap's indexes).

    Runs the thorough detection pass, which also finds small faces. An image without faces
    gives an empty list. Raises `UnreadableImage` when the bytes are not an image.
    """
    frame = decode_image(data)
    scored = detect_scored_faces(
        frame,
        max_side=settings.detect_max_side,
        min_score=settings.detect_min_score,
        thorough=True,
    )
    faces = []
    for index, (box, score) in enumerate(scored):
        points = locate_landmarks(
            frame, box, margin=settings.mesh_crop_margin, crop_max_side=settings.mesh_crop_max_side
        )
        five = (
            None
            if points is None
            else tuple((float(x), float(y)) for x, y in five_point_landmarks(points))
        )
        faces.append(
            DetectedFace(
                index=index,
                box=(box.left, box.top, box.width, box.height),
                score=round(float(score), 4),
                landmarks5=five,
            )
        )
    return faces
