"""The neural swap of one face: align to the template, run the swapper with the source's
latent, optionally restore, paste back through the inverse transform with a soft mask."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from faceport.errors import EnhanceNotAvailable

from .._backend import FacePainter, VideoFaceRenderer
from .._cache import LruCache
from .._landmarks import five_point_landmarks
from .._swap import SourceFaces
from .._timing import timed_stage
from .._types import Box, Frame, Landmarks, Mask
from ._align import aligned_crop, crop_face_mask, paste_back_in_place
from ._models import RECOGNITION_SIZE, RESTORE_SIZE, SWAP_SIZE, Model, Models, load_models


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def _blob(crop: Frame, *, scale: float, mean: float) -> np.ndarray:
    """NCHW float32 RGB of a BGR crop: (pixel - mean) * scale."""
    return cv2.dnn.blobFromImage(crop, scale, crop.shape[1::-1], (mean, mean, mean), swapRB=True)


def _pixels(output: np.ndarray, *, low: float, high: float) -> Frame:
    """BGR uint8 of a 1x3xHxW RGB output whose values span low..high."""
    rgb = np.clip((output[0].transpose(1, 2, 0) - low) / (high - low), 0.0, 1.0)
    return np.round(rgb[..., ::-1] * 255.0).astype(np.uint8)


def _union(first: tuple[Box, Mask], second: tuple[Box, Mask] | None) -> tuple[Box, Mask]:
    """One box and weights covering both regions (weights: the larger of the two)."""
    if second is None:
        return first
    (a, wa), (b, wb) = first, second
    box = Box(
        min(a.left, b.left), min(a.top, b.top), max(a.right, b.right), max(a.bottom, b.bottom)
    )
    weights = np.zeros((box.height, box.width), np.uint8)
    for region, values in ((a, wa), (b, wb)):
        rows = slice(region.top - box.top, region.bottom - box.top)
        cols = slice(region.left - box.left, region.right - box.left)
        weights[rows, cols] = np.maximum(weights[rows, cols], values)
    return box, weights


class OnnxBackend:
    """Neural face swap on operator-supplied models (see `load_onnx_backend`).

    onnxruntime sessions may be run from several threads at once, so one backend serves
    every worker thread.
    """

    def __init__(self, models: Models) -> None:
        self.models = models
        # latents of cached source analyses, by the analysis' frame (kept in the entry, so
        # its id cannot be reused while the entry lives): a source used again skips the
        # recognizer as it skips its detection
        self._latents: LruCache[tuple[Frame, np.ndarray]] = LruCache(16)

    @property
    def can_enhance(self) -> bool:
        return self.models.restorer is not None

    def describe(self) -> dict[str, Any]:
        """What `faceport engine-info` shows: the provider and each model's signature."""
        import onnxruntime as ort

        models = self.models
        named = {"swapper": models.swapper, "recognizer": models.recognizer}
        if models.restorer is not None:
            named["restorer"] = models.restorer
        return {
            "engine": "onnx",
            "model_dir": str(models.directory),
            "provider": models.providers[0],
            "providers": list(models.providers),
            "available_providers": ort.get_available_providers(),
            "onnxruntime": ort.__version__,
            "enhance": self.can_enhance,
            "models": {role: _signature(model, models.directory) for role, model in named.items()},
        }

    def source_latent(self, frame: Frame, points: Landmarks) -> np.ndarray:
        """The swapper's `source` input for the face at `points`: the recognizer's
        embedding, normalised, times the embedding map, normalised again (1x512)."""
        crop, _ = aligned_crop(frame, five_point_landmarks(points), RECOGNITION_SIZE)
        recognizer = self.models.recognizer
        blob = _blob(crop, scale=1.0 / 127.5, mean=127.5)
        embedding = recognizer.run({recognizer.inputs[0]: blob}).reshape(1, -1)
        latent = _unit(embedding) @ self.models.emap
        return _unit(latent).astype(np.float32)

    def latent_of(self, source: SourceFaces, index: int) -> np.ndarray:
        """`source_latent` of face `index` of an analysed source, cached with the analysis."""
        key = (id(source.frame), index)
        cached = self._latents.get(key)
        if cached is not None and cached[0] is source.frame:
            return cached[1]
        latent = self.source_latent(source.frame, source.landmarks[index])
        self._latents.put(key, (source.frame, latent))
        return latent

    def swap_in_place(
        self,
        frame: Frame,
        latent: np.ndarray,
        points: Landmarks,
        *,
        enhance: bool,
        timings: dict[str, float] | None = None,
    ) -> tuple[Box, Mask] | None:
        """Swap the face at `points` (468 mesh points) of `frame` in place; returns the box
        written and its weights (None: the face's crop is off the frame)."""
        five = five_point_landmarks(points)
        with timed_stage(timings, "align"):
            crop, matrix = aligned_crop(frame, five, SWAP_SIZE)
            mask = crop_face_mask(points, matrix, SWAP_SIZE)
        with timed_stage(timings, "swap"):
            swapper = self.models.swapper
            output = swapper.run({"target": _blob(crop, scale=1 / 255, mean=0.0), "source": latent})
            face = _pixels(output, low=0.0, high=1.0)
        with timed_stage(timings, "paste"):
            region = paste_back_in_place(frame, face, matrix, mask)
        if region is None or not enhance:
            return region
        return _union(region, self._restore_in_place(frame, five, mask, timings))

    def _restore_in_place(
        self, frame: Frame, five: Landmarks, mask: Mask, timings: dict[str, float] | None
    ) -> tuple[Box, Mask] | None:
        restorer = self.models.restorer
        if restorer is None:
            raise EnhanceNotAvailable()
        with timed_stage(timings, "align"):
            crop, matrix = aligned_crop(frame, five, RESTORE_SIZE)
            big_mask = cv2.resize(
                mask, (RESTORE_SIZE, RESTORE_SIZE), interpolation=cv2.INTER_LINEAR
            )
        with timed_stage(timings, "restore"):
            blob = _blob(crop, scale=1.0 / 127.5, mean=127.5)
            restored = _pixels(restorer.run({restorer.inputs[0]: blob}), low=-1.0, high=1.0)
        with timed_stage(timings, "paste"):
            return paste_back_in_place(frame, restored, matrix, big_mask)

    def painter(self, *, enhance: bool) -> FacePainter:
        """The image swap's painter (see `swap_face(painter=)`)."""
        if enhance and not self.can_enhance:
            raise EnhanceNotAvailable()

        def paint(
            frame: Frame,
            source: SourceFaces,
            source_index: int,
            target_points: Landmarks,
            timings: dict[str, float] | None,
        ) -> tuple[Box, Mask]:
            with timed_stage(timings, "recognize"):
                latent = self.latent_of(source, source_index)
            region = self.swap_in_place(
                frame, latent, target_points, enhance=enhance, timings=timings
            )
            return region or (Box(0, 0, 0, 0), np.zeros((0, 0), np.uint8))

        return paint

    def renderer_for(self, *, enhance: bool) -> Callable[[SourceFaces], VideoFaceRenderer]:
        """The video pipeline's renderer factory (see `swap_face_video(renderer_for=)`)."""
        if enhance and not self.can_enhance:
            raise EnhanceNotAvailable()

        def make(source: SourceFaces) -> VideoFaceRenderer:
            return _VideoRenderer(self, self.latent_of(source, 0), enhance)

        return make


class _VideoRenderer:
    """The neural swap on followed faces: the latent is made once, faces hold no state."""

    def __init__(self, backend: OnnxBackend, latent: np.ndarray, enhance: bool) -> None:
        self._backend, self._latent, self._enhance = backend, latent, enhance

    def render(self, frame: Frame, face_id: int, points: Landmarks) -> bool:
        region = self._backend.swap_in_place(frame, self._latent, points, enhance=self._enhance)
        return region is not None and bool(region[1].any())

    def forget(self, keep: set[int]) -> None:
        return None


def _signature(model: Model, directory: Path) -> dict[str, Any]:
    session = model.session
    return {
        "file": str(model.path.relative_to(directory)),
        "inputs": {t.name: t.shape for t in session.get_inputs()},
        "output": {t.name: t.shape for t in session.get_outputs()},
    }


def load_onnx_backend(model_dir: Path, providers: tuple[str, ...] | None = None) -> OnnxBackend:
    """Check `model_dir` and open its models (raises `InvalidModelDir` with one line)."""
    return OnnxBackend(load_models(model_dir, providers))
