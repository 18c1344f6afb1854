"""Face detection as a service: every face of an image with its box, score and 5 points."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ._codec import decode_image
from ._find import find_faces
from ._landmarks import five_point_landmarks
from ._swap import DEFAULT_SETTINGS, EngineSettings, find_options


@dataclass(frozen=True)
class DetectedFace:
    """One face of an image.

    `index` is the position `target_index` (and a face map) uses: largest face first, size
    being the area of the bounding box of the face's 468 mesh landmarks (ties: left to
    right, then top down). `box` is (x, y, width, height) in pixels of the original image
    (the HOG box). `score` is a probability in [0, 1] that this is a face: the HOG
    detector's margin through a logistic (`face_probability`). `landmarks5` are the
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


def face_probability(hog_score: float) -> float:
    """The HOG detector's margin (about 0 at its decision line, 1-3 for clear faces) as a
    probability in [0, 1], through a logistic of slope 2: 0.1 (the engine's lowest accepted
    margin) gives 0.55, 1 gives 0.88, 2 gives 0.98. Monotone, so it orders faces as the
    margin does; the slope is a convention, not a calibration (ARCHITECTURE.md)."""
    return 1.0 / (1.0 + math.exp(-2.0 * max(hog_score, -100.0)))  # no overflow


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
            score=round(face_probability(face.score), 4),
            landmarks5=tuple((float(x), float(y)) for x, y in five_point_landmarks(face.landmarks)),
        )
        for index, face in enumerate(faces)
    ]
