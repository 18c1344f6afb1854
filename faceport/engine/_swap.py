"""The image face swap: decode, detect, landmarks, warp, colour, blend, encode."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from faceport.errors import NoFaceInSource, NoFaceInTarget, TargetIndexOutOfRange

from ._blend import alpha_blend_roi, face_blend_mask, paste_roi
from ._codec import OutputFormat, decode_image, encode_image
from ._colour import transfer_lab_statistics
from ._detect import detect_faces
from ._landmarks import INNER_MOUTH, locate_landmarks
from ._types import Box, Frame, Landmarks, Mask
from ._warp import face_roi, triangulate_face_pair, warp_face_to_landmarks


@dataclass(frozen=True)
class EngineSettings:
    """Tuning knobs of the swap; the defaults are what the benchmark was run with."""

    detect_max_side: int = 512
    detect_min_score: float = 0.1
    mesh_crop_margin: float = 1.7
    mesh_crop_max_side: int = 320
    feather_fraction: float = 0.08
    hull_scale: float = 0.96
    forehead_scale: float = 0.85
    png_compression: int = 1
    png_threads: int = 2
    jpeg_quality: int = 92
    webp_quality: int = 90


DEFAULT_SETTINGS = EngineSettings()


@dataclass(frozen=True)
class SwapResult:
    """A swapped frame and where it differs from the target."""

    frame: Frame
    roi: Box
    weights: Mask


@contextmanager
def _stage(timings: dict[str, float] | None, name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


def _ensure_landmarks(landmarks: Landmarks | None, error: type[Exception]) -> Landmarks:
    if landmarks is None:
        raise error()
    return landmarks


def swap_face_frames(
    source: Frame,
    target: Frame,
    *,
    target_index: int = 0,
    settings: EngineSettings = DEFAULT_SETTINGS,
    timings: dict[str, float] | None = None,
) -> SwapResult:
    """Swap the largest face of `source` onto face `target_index` (largest first) of `target`.

    Returns a new frame that equals `target` outside `roi` and wherever `weights` is 0.
    """
    with _stage(timings, "detect"):
        detect_options = {
            "max_side": settings.detect_max_side,
            "min_score": settings.detect_min_score,
        }
        source_faces = detect_faces(source, **detect_options)
        if not source_faces:
            raise NoFaceInSource()
        target_faces = detect_faces(target, **detect_options)
        if target_faces and target_index >= len(target_faces):
            # small faces are only found by the slower pass; pay for it only when asked
            target_faces = detect_faces(target, thorough=True, **detect_options)
    if not target_faces:
        raise NoFaceInTarget()
    if not 0 <= target_index < len(target_faces):
        count = len(target_faces)
        raise TargetIndexOutOfRange(
            f"target_index {target_index} is out of range: the target has {count} "
            f"face{'s' if count != 1 else ''} (valid indexes 0 to {count - 1}).",
            faces_found=count,
            target_index=target_index,
        )

    with _stage(timings, "landmarks"):
        landmark_options = {
            "margin": settings.mesh_crop_margin,
            "crop_max_side": settings.mesh_crop_max_side,
        }
        source_points = _ensure_landmarks(
            locate_landmarks(source, source_faces[0], **landmark_options), NoFaceInSource
        )
        target_points = _ensure_landmarks(
            locate_landmarks(target, target_faces[target_index], **landmark_options),
            NoFaceInTarget,
        )

    with _stage(timings, "warp"):
        triangles = triangulate_face_pair(source_points, target_points)
        roi = face_roi(target_points, target.shape)
        warped, covered = warp_face_to_landmarks(
            source, source_points, target_points, triangles, roi
        )
        origin = np.array([roi.left, roi.top], dtype=np.float32)
        local_points = target_points - origin
        face_width = float(np.ptp(target_points[:, 0]))
        weights = face_blend_mask(
            covered,
            local_points,
            local_points[list(INNER_MOUTH)],
            feather=max(1, round(face_width * settings.feather_fraction)),
            hull_scale=settings.hull_scale,
            forehead_scale=settings.forehead_scale,
        )
    target_roi = target[roi.top : roi.bottom, roi.left : roi.right]

    with _stage(timings, "colour"):
        recoloured = transfer_lab_statistics(warped, target_roi, weights)

    with _stage(timings, "blend"):
        blended = alpha_blend_roi(target_roi, recoloured, weights)
        frame = paste_roi(target, blended, roi)
    return SwapResult(frame=frame, roi=roi, weights=weights)


def swap_face(
    source: bytes,
    target: bytes,
    *,
    target_index: int = 0,
    output_format: OutputFormat = "png",
    timings: dict[str, float] | None = None,
) -> bytes:
    """Swap the largest face of `source` onto face number `target_index` of `target`.

    Faces are indexed largest first (0 = largest). Returns the encoded result image
    (png, jpg or webp) labelled as synthetic media in its XMP. If `timings` is given, it
    is filled with seconds per stage: decode, detect, landmarks, warp, colour, blend,
    encode.

    Raises `UnreadableImage`, `NoFaceInSource`, `NoFaceInTarget` or
    `TargetIndexOutOfRange` from `faceport.errors`.
    """
    settings = DEFAULT_SETTINGS
    with _stage(timings, "decode"):
        source_frame = decode_image(source)
        target_frame = decode_image(target)
    result = swap_face_frames(
        source_frame,
        target_frame,
        target_index=target_index,
        settings=settings,
        timings=timings,
    )
    with _stage(timings, "encode"):
        return encode_image(
            result.frame,
            output_format,
            png_compression=settings.png_compression,
            png_threads=settings.png_threads,
            jpeg_quality=settings.jpeg_quality,
            webp_quality=settings.webp_quality,
        )
