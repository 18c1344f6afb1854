"""Face fusion: a face part-way between a template's and a donor's, in shape and texture."""

from __future__ import annotations

import numpy as np

from faceport.errors import NoFaceInTarget

from ._blend import alpha_blend_roi, face_blend_mask, paste_roi
from ._codec import OutputFormat, decode_image
from ._colour import transfer_lab_statistics
from ._find import find_faces
from ._landmarks import INNER_MOUTH
from ._swap import (
    DEFAULT_SETTINGS,
    EngineSettings,
    SwapResult,
    analyse_source,
    encode_frame,
    find_options,
)
from ._timing import timed_stage
from ._types import Box, Frame, Landmarks
from ._warp import align_points, face_roi, triangulate_face_pair, warp_face_to_landmarks


def interpolate_face_shape(
    template_points: Landmarks, donor_points: Landmarks, similarity: float
) -> Landmarks:
    """Return landmarks `similarity` of the way from the template's shape to the donor's.

    The donor's landmarks are first brought into the template's pose (similarity
    transform), so only the shape moves, not the head's position, size or roll.
    """
    aligned = align_points(donor_points, template_points)
    return (template_points + similarity * (aligned - template_points)).astype(np.float32)


def cross_dissolve(first: Frame, second: Frame, amount: float) -> Frame:
    """Return `first` mixed with `amount` (0..1) of `second`."""
    mixed = first.astype(np.float32) * (1.0 - amount) + second.astype(np.float32) * amount
    return np.rint(mixed).astype(np.uint8)


def fuse_face_into(
    template: Frame,
    template_points: Landmarks,
    donor: Frame,
    donor_points: Landmarks,
    similarity: float,
    *,
    settings: EngineSettings = DEFAULT_SETTINGS,
    timings: dict[str, float] | None = None,
) -> SwapResult:
    """Morph the template's face `similarity` (0..1) of the way towards the donor's.

    Both faces are warped onto the interpolated shape and cross-dissolved there (a
    template face left in its own shape under a part-warped donor would show double
    features); the result is blended into the template like a swap. At 0 the template is
    returned as it is; at 1 the donor's face replaces the template's in the donor's shape.
    Returns a new frame; `roi` and `weights` say where it differs from the template.
    """
    if similarity <= 0.0:
        # the exact template, not a resampled copy of it
        return SwapResult(
            frame=template.copy(), roi=Box(0, 0, 0, 0), weights=np.zeros((0, 0), np.uint8)
        )
    with timed_stage(timings, "warp"):
        shape = interpolate_face_shape(template_points, donor_points, similarity)
        triangles = triangulate_face_pair(donor_points, template_points)
        roi = face_roi(shape, template.shape)
        donor_warped, donor_covered = warp_face_to_landmarks(
            donor, donor_points, shape, triangles, roi
        )
        template_warped, template_covered = warp_face_to_landmarks(
            template, template_points, shape, triangles, roi
        )
        local_points = shape - np.array([roi.left, roi.top], dtype=np.float32)
        weights = face_blend_mask(
            np.minimum(donor_covered, template_covered),
            local_points,
            local_points[list(INNER_MOUTH)],
            feather=max(1, round(float(np.ptp(shape[:, 0])) * settings.feather_fraction)),
            hull_scale=settings.hull_scale,
            forehead_scale=settings.forehead_scale,
        )
    with timed_stage(timings, "colour"):
        recoloured = transfer_lab_statistics(donor_warped, template_warped, weights)
    with timed_stage(timings, "blend"):
        face = cross_dissolve(template_warped, recoloured, similarity)
        template_roi = template[roi.top : roi.bottom, roi.left : roi.right]
        blended = alpha_blend_roi(template_roi, face, weights)
        frame = paste_roi(template, blended, roi)
    return SwapResult(frame=frame, roi=roi, weights=weights)


def fuse_faces(
    donor: bytes,
    template: bytes,
    *,
    similarity: float,
    output_format: OutputFormat = "png",
    timings: dict[str, float] | None = None,
) -> bytes:
    """Fuse the donor's largest face into the template's largest face.

    `similarity` in [0, 1] (the caller checks the range) moves the result from the
    template's face (0: the template's pixels exactly) to the donor's (1: like a swap of
    the donor onto the template, in the donor's face shape), smoothly in both shape and
    texture. Returns the encoded image (png, jpg or webp) labelled as synthetic media;
    `timings` as for `swap_face`. The donor's analysis is cached like a swap source.

    Raises `UnreadableImage`, `NoFaceInSource` (donor) or `NoFaceInTarget` (template).
    """
    settings = DEFAULT_SETTINGS
    analysed = analyse_source(donor, settings=settings, timings=timings)
    with timed_stage(timings, "decode"):
        template_frame = decode_image(template)
    template_faces = find_faces(template_frame, find_options(settings), timings=timings)
    if not template_faces:
        raise NoFaceInTarget()
    template_points = template_faces[0].landmarks
    result = fuse_face_into(
        template_frame,
        template_points,
        analysed.frame,
        analysed.landmarks[0],
        similarity,
        settings=settings,
        timings=timings,
    )
    with timed_stage(timings, "encode"):
        return encode_frame(result.frame, output_format, settings)
