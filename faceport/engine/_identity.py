"""Who a face is: dlib's 128-d ResNet face descriptor, from the face-recognition-models
wheel (no download). Two faces closer than about 0.6 (Euclidean) are the same person.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._types import Box, Frame

Descriptor = npt.NDArray[np.float64]
"""A face descriptor, float64, shape (128,)."""

SAME_PERSON_DISTANCE = 0.6

_local = threading.local()


def _models_dir() -> Path:
    # the package's __init__ needs pkg_resources, so find its data without importing it
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _models() -> tuple[Any, Any]:
    # one pair per thread: dlib makes no promise that its models are safe to share
    models = getattr(_local, "models", None)
    if models is None:
        import dlib

        directory = _models_dir()
        models = (
            dlib.shape_predictor(str(directory / "shape_predictor_5_face_landmarks.dat")),
            dlib.face_recognition_model_v1(
                str(directory / "dlib_face_recognition_resnet_model_v1.dat")
            ),
        )
        _local.models = models
    return models


def face_descriptor(frame: Frame, box: Box) -> Descriptor:
    """Return the descriptor of the face in `box` of a BGR frame."""
    import dlib

    predictor, encoder = _models()
    # only a crop around the face is converted: the chip dlib cuts lies well inside it
    pad = max(box.width, box.height) // 2
    left, top = max(0, box.left - pad), max(0, box.top - pad)
    crop = frame[top : box.bottom + pad, left : box.right + pad]
    rgb = np.ascontiguousarray(crop[:, :, ::-1])
    rect = dlib.rectangle(
        box.left - left, box.top - top, box.right - left - 1, box.bottom - top - 1
    )
    shape = predictor(rgb, rect)
    return np.array(encoder.compute_face_descriptor(rgb, shape), dtype=np.float64)


def descriptor_distance(a: Descriptor, b: Descriptor) -> float:
    """Euclidean distance between two descriptors (below ~0.6: the same person)."""
    return float(np.linalg.norm(a - b))
