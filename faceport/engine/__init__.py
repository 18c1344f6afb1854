"""The face engine: image face swap, face detection and face fusion on CPU from bundled models.

This is the only package of faceport that imports cv2, numpy, mediapipe or dlib. Importing
it loads no model; each worker thread loads its own detector and mesh on first use.
"""

from ._codec import OutputFormat, decode_image, encode_image
from ._faces import DetectedFace, detect_faces_in_image
from ._fuse import fuse_faces
from ._provenance import TRAINED_ALGORITHMIC_MEDIA, read_digital_source_type
from ._selection import FaceMap, TargetSelection
from ._swap import (
    DEFAULT_SETTINGS,
    EngineSettings,
    FaceRegion,
    FacesSwapResult,
    SwapResult,
    clear_source_cache,
    swap_face,
    swap_face_frames,
    swap_faces_frames,
)
from ._types import Box, Frame, Landmarks, Mask, Triangles
from ._video import DEFAULT_VIDEO_SETTINGS, VideoSettings, VideoSwapReport, swap_face_video

__all__ = [
    "DEFAULT_SETTINGS",
    "DEFAULT_VIDEO_SETTINGS",
    "TRAINED_ALGORITHMIC_MEDIA",
    "Box",
    "DetectedFace",
    "EngineSettings",
    "FaceMap",
    "FaceRegion",
    "FacesSwapResult",
    "Frame",
    "Landmarks",
    "Mask",
    "OutputFormat",
    "SwapResult",
    "TargetSelection",
    "Triangles",
    "VideoSettings",
    "VideoSwapReport",
    "clear_source_cache",
    "decode_image",
    "detect_faces_in_image",
    "encode_image",
    "fuse_faces",
    "read_digital_source_type",
    "swap_face",
    "swap_face_frames",
    "swap_face_video",
    "swap_faces_frames",
]
