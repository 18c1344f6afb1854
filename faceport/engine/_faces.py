"""Face detection as a service: every face of an image with its box, score and 5 points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._codec import decode_image
from ._find import find_faces
from ._landmarks import five_point_landmarks
from ._swap import DEFAULT_SETTINGS, EngineSettings, find_options


@dataclass(frozen=True)
class DetectedFace:
    """One face of an image.

    `index` is the position `target_index` (and a face map) uses: largest face first.
    `box` is (x, y, width, height) in pixels of the original image. `score` is the HOG
    detector's confidence (higher is surer; it is not a probability). `landmarks5` are the
    left eye centre, right eye centre, nose tip, left and right mouth corners as (x, y),
    sides as seen in the image. (The engine lists only faces its landmark mesh confirms,
    so they are always set; None stays in the type for faces of other backends.)
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

    Runs the thorough detection pass, which also finds small faces (about 40 px across in
    images up to 1024 px, proportionally larger beyond). An image without faces gives an
    empty list. Raises `UnreadableImage` when the bytes are not an image.
    """
    frame = decode_image(data)
    faces = find_faces(frame, find_options(settings), thorough=True)
    return [
        DetectedFace(
            index=index,
            box=(face.box.left, face.box.top, face.box.width, face.box.height),
            score=round(face.score, 4),
            landmarks5=tuple((float(x), float(y)) for x, y in five_point_landmarks(face.landmarks)),
        )
        for index, face in enumerate(faces)
    ]
