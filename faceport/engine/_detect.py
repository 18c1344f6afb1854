"""Face detection with dlib's HOG detector on a reduced copy of the frame."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from ._types import Box, Frame

_local = threading.local()


def _hog_detector() -> Any:
    # one detector per thread: dlib makes no promise that a detector is safe to share
    detector = getattr(_local, "hog_detector", None)
    if detector is None:
        import dlib

        detector = dlib.get_frontal_face_detector()
        _local.hog_detector = detector
    return detector


def order_largest_first(boxes: Sequence[Box]) -> list[Box]:
    """Return the boxes sorted by area, largest first; ties keep left-to-right, top-down order."""
    return sorted(boxes, key=lambda box: (-box.area, box.left, box.top))


def detection_scale(frame_shape: tuple[int, ...], max_side: int) -> float:
    """Return the factor (<= 1) that brings the longer side of a frame down to `max_side`."""
    longest = max(frame_shape[0], frame_shape[1])
    return min(1.0, max_side / longest)


def shrink(image: np.ndarray, scale: float) -> np.ndarray:
    """`image` area-averaged down by `scale` (<= 1) to (round(w * scale), round(h * scale)),
    pixel centres exactly where that scale puts them, at any size.

    cv2's INTER_AREA is fast only for a whole factor that divides the size exactly (the
    general path is ~10x slower): the remainder is padded (edge pixels repeated) for the
    whole factor, and the rest mapped with one exact affine step, so coordinates, masks
    and images reduced here line up with their full-size originals.
    """
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    factor = max(1, int(1.0 / scale))
    if factor > 1:
        pad_bottom, pad_right = -height % factor, -width % factor
        if pad_bottom or pad_right:
            image = cv2.copyMakeBorder(image, 0, pad_bottom, 0, pad_right, cv2.BORDER_REPLICATE)
        image = cv2.resize(
            image,
            (image.shape[1] // factor, image.shape[0] // factor),
            interpolation=cv2.INTER_AREA,
        )
    # pixel centres: a reduced pixel j sits at (j + 0.5) * factor - 0.5 of the original,
    # an output pixel k at (k + 0.5) / scale - 0.5
    step = factor * scale
    if step == 1.0:  # a whole factor: those are the same place, and only the size differs
        return np.ascontiguousarray(image[: size[1], : size[0]])
    matrix = np.array([[step, 0, 0.5 * step - 0.5], [0, step, 0.5 * step - 0.5]], np.float64)
    return cv2.warpAffine(
        image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def reduced_gray(frame: Frame, scale: float) -> Frame:
    """A grayscale copy of `frame` scaled by `scale` (<= 1)."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return gray if scale >= 1.0 else shrink(gray, scale)


def detect_faces(
    frame: Frame, *, max_side: int = 640, min_score: float = 0.1, thorough: bool = False
) -> list[Box]:
    """HOG boxes alone (no mesh check), largest first: a pass without upsampling, then one
    with (when `thorough`, or when the first finds nothing).

    Kept for callers that confirm faces their own way (video tracking); image swaps use
    `_find.find_faces`.
    """
    if not thorough:
        found = detect_scored_faces(frame, max_side=max_side, min_score=min_score)
        if found:
            return [box for box, _ in found]
    found = detect_scored_faces(frame, max_side=max_side, upsample=1, min_score=min_score)
    return [box for box, _ in found]


def detect_scored_faces(
    frame: Frame, *, max_side: int, upsample: int = 0, min_score: float = 0.1
) -> list[tuple[Box, float]]:
    """Detect faces and return (box, HOG score) pairs in frame coordinates, largest first.

    HOG runs on a grayscale copy whose longer side is at most `max_side` (the detector
    costs time in proportion to pixels), upsampled `upsample` times: without upsampling it
    sees faces from 80 pixels of the copy, each upsampling halves that at four times the
    cost. Detections scoring below `min_score` are dropped: dlib's default cut (0) lets
    through texture such as JPEG artefacts on clothing.
    """
    scale = detection_scale(frame.shape, max_side)
    gray = reduced_gray(frame, scale)
    rects, scores, _ = _hog_detector().run(gray, upsample, min_score)
    height, width = frame.shape[:2]
    score_of: dict[Box, float] = {}
    for rect, score in zip(rects, scores, strict=True):
        box = Box(
            left=max(0, round(rect.left() / scale)),
            top=max(0, round(rect.top() / scale)),
            right=min(width, round((rect.right() + 1) / scale)),
            bottom=min(height, round((rect.bottom() + 1) / scale)),
        )
        if box.area > 0:
            score_of[box] = max(float(score), score_of.get(box, float("-inf")))
    return [(box, score_of[box]) for box in order_largest_first(list(score_of))]
