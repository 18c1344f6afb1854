"""Finding faces: HOG boxes that the landmark mesh confirms, ordered by the mesh's size.

A HOG box alone is a weak witness: at the low threshold that small faces need it also
fires on textures (folds of clothing, a patterned border), and its size jumps by a
pyramid step from one detection scale to the next. So a box counts as a face only when
the mesh, run on a crop around it, finds a face whose centre lies in the box, and faces
are ordered by the extent of their landmarks, which does not depend on the scale the
box was found at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._detect import detect_scored_faces, detection_scale, order_largest_first
from ._landmarks import locate_landmarks
from ._timing import timed_stage
from ._types import Box, Frame, Landmarks


@dataclass(frozen=True)
class Face:
    """A confirmed face: its HOG box and score and its 468 mesh landmarks (frame pixels)."""

    box: Box
    score: float
    landmarks: Landmarks

    @property
    def extent(self) -> Box:
        """The bounding box of the landmarks (forehead to chin, ear to ear)."""
        return landmark_extent(self.landmarks)


@dataclass(frozen=True)
class FindOptions:
    """Where to look: the detection passes and the mesh crop.

    The quick passes run HOG without upsampling on copies whose longer side is each of
    `quick_sides` in turn, stopping at the first that yields a face: on a copy of side S
    HOG sees faces from 80 px of the copy, i.e. 80/S of the image's longer side (25 % at
    320, 16 % at 512). The thorough pass upsamples once on a copy of side
    `thorough_side`, which finds faces down to about 40 px in images up to that size
    (and 40 * longer side / `thorough_side` px in larger ones).
    """

    quick_sides: tuple[int, ...] = (320, 512)
    thorough_side: int = 1024
    min_score: float = 0.1
    mesh_margin: float = 1.7
    mesh_max_side: int = 320


def landmark_extent(landmarks: Landmarks) -> Box:
    """Return the bounding box of a set of landmarks, in whole pixels."""
    low = np.floor(landmarks.min(axis=0)).astype(int)
    high = np.ceil(landmarks.max(axis=0)).astype(int)
    return Box(int(low[0]), int(low[1]), int(high[0]), int(high[1]))


def _inside(point: np.ndarray, box: Box) -> bool:
    return bool(box.left <= point[0] < box.right and box.top <= point[1] < box.bottom)


def confirm_faces(
    frame: Frame, scored: list[tuple[Box, float]], options: FindOptions
) -> list[Face]:
    """Keep the boxes the mesh confirms, one face per person, largest landmark extent first.

    A mesh that locks on to a neighbouring face (its centre outside the box) does not
    confirm the box; two boxes on the same face keep the better-scored one.
    """
    faces: list[Face] = []
    for box, score in sorted(scored, key=lambda pair: -pair[1]):
        points = locate_landmarks(
            frame, box, margin=options.mesh_margin, crop_max_side=options.mesh_max_side
        )
        if points is None:
            continue
        centre = points.mean(axis=0)
        if not _inside(centre, box):
            continue
        if any(_inside(centre, face.extent) for face in faces):
            continue
        faces.append(Face(box=box, score=score, landmarks=points))
    by_extent = {face.extent: face for face in faces}
    return [by_extent[extent] for extent in order_largest_first(list(by_extent))]


def find_faces(
    frame: Frame,
    options: FindOptions,
    *,
    thorough: bool = False,
    timings: dict[str, float] | None = None,
) -> list[Face]:
    """Return the confirmed faces of `frame`, largest first.

    Without `thorough`, the quick passes run first and the first one that confirms a face
    decides; they miss only faces smaller than every face they find, so their list is the
    head of the thorough list, and a caller needs the thorough pass only for an index
    beyond it (or when the quick passes confirm nothing, which falls through to it here).
    Adds the seconds spent to `timings` under "detect" (HOG) and "landmarks" (mesh).
    """
    passes = [] if thorough else [(side, 0) for side in options.quick_sides]
    passes.append((options.thorough_side, 1))
    tried = set()
    for max_side, upsample in passes:
        # a small image is the same copy at every side above its own: try it once
        effective = (detection_scale(frame.shape, max_side), upsample)
        if effective in tried:
            continue
        tried.add(effective)
        with timed_stage(timings, "detect"):
            scored = detect_scored_faces(
                frame, max_side=max_side, upsample=upsample, min_score=options.min_score
            )
        if not scored:
            continue
        with timed_stage(timings, "landmarks"):
            faces = confirm_faces(frame, scored, options)
        if faces:
            return faces
    return []
