"""The face engine: image face swap on CPU from bundled models.

This is the only package of faceport that imports cv2, numpy, mediapipe or dlib. Importing
it loads no model; each worker thread loads its own detector and mesh on first use.
"""

from ._codec import OutputFormat, decode_image, encode_image
from ._provenance import TRAINED_ALGORITHMIC_MEDIA, read_digital_source_type
from ._swap import DEFAULT_SETTINGS, EngineSettings, SwapResult, swap_face, swap_face_frames
from ._types import Box, Frame, Landmarks, Mask, Triangles

__all__ = [
    "DEFAULT_SETTINGS",
    "TRAINED_ALGORITHMIC_MEDIA",
    "Box",
    "EngineSettings",
    "Frame",
    "Landmarks",
    "Mask",
    "OutputFormat",
    "SwapResult",
    "Triangles",
    "decode_image",
    "encode_image",
    "read_digital_source_type",
    "swap_face",
    "swap_face_frames",
]
