"""The neural swap backend: operator-supplied ONNX models (insightface's inswapper-128,
an ArcFace recognizer, optionally GFPGAN-512) on onnxruntime, CUDA when present.

It paints faces for the classic engine's image and video paths (`painter`,
`renderer_for`), so finding faces, selection, tracking and encoding are shared. Nothing is
loaded on import; `load_onnx_backend` checks the model directory and opens the models.
See docs/ARCHITECTURE.md, "The neural backend".
"""

from ._models import MANIFEST_FILE, RECOGNIZER_FILES, RESTORER_FILE, SWAPPER_FILE
from ._neural import OnnxBackend, load_onnx_backend

__all__ = [
    "MANIFEST_FILE",
    "RECOGNIZER_FILES",
    "RESTORER_FILE",
    "SWAPPER_FILE",
    "OnnxBackend",
    "load_onnx_backend",
]
