"""Taking the target's glasses frame out where the new face fades into the target.

Inside the face region the source covers whatever the target wore. Where the blend
feathers out, at the temples, the target shows through, and with it the outer corners of
a glasses frame, which then float half-visible next to the new eyes. Those frame pixels
(thin dark lines at eye level, near the face's edge) are filled from their surroundings
before blending, so the feather mixes the new face with glasses-free skin and hair.
"""

from __future__ import annotations

import cv2
import numpy as np

from ._types import Frame, Landmarks, Mask


def eye_band(shape: tuple[int, ...], eye_centres: Landmarks, above: float, below: float) -> Mask:
    """Pixels within `above` / `below` inter-ocular distances of the line through the eyes
    (measured across it, so a rolled head gets a rolled band)."""
    band = np.zeros(shape[:2], np.uint8)
    left, right = eye_centres[0].astype(np.float64), eye_centres[1].astype(np.float64)
    axis = right - left
    iod = float(np.hypot(*axis))
    if iod < 1e-6:
        return band
    along = axis / iod * (shape[0] + shape[1])  # far enough to cross the whole image
    down = np.array([-axis[1], axis[0]]) / iod  # down the face for an upright head
    corners = [
        left - along - above * iod * down,
        left + along - above * iod * down,
        left + along + below * iod * down,
        left - along + below * iod * down,
    ]
    cv2.fillConvexPoly(band, np.rint(corners).astype(np.int32), 255)
    return band


def remove_glasses_frame(
    target: Frame,
    weights: Mask,
    eye_centres: Landmarks,
    *,
    darkness: float = 0.5,
    reach: float = 0.05,
) -> tuple[Frame, Mask]:
    """Fill in what looks like a glasses frame the blend would let show in `target` (a
    face ROI); return the filled-in ROI and the mask of the pixels that changed.

    Frame pixels are thin lines at eye level, at most `darkness` times as bright as the
    grey-level closing around them (the image with every dark line thinner than the
    kernel filled in from its sides: skin and hair are brighter than that, a frame's
    plastic or metal is not), where the face weight is below full, no further than
    `reach` inter-ocular distances outside the face region. They take the value of the
    closing, smoothed. Without such lines (no glasses) the target comes back as it was,
    with an empty mask.
    """
    iod = float(np.linalg.norm(eye_centres[1] - eye_centres[0]))
    zone = eye_band(target.shape, eye_centres, 0.5, 0.5)
    zone[weights == 255] = 0
    # distance to the face region (weights > 0) instead of a dilation: one pass, any reach
    outside = np.where(weights > 0, np.uint8(0), np.uint8(255))
    zone[cv2.distanceTransform(outside, cv2.DIST_L2, 3) > reach * iod] = 0
    left, top, width, height = cv2.boundingRect(zone)
    if width == 0:
        return target, zone
    # work on the zone's box only (plus the kernel's reach): the sides of the face at eye
    # level, a fraction of the ROI
    kernel = max(3, round(0.2 * iod)) | 1
    top, left = max(0, top - kernel), max(0, left - kernel)
    bottom, right = top + height + 2 * kernel, left + width + 2 * kernel
    box = (slice(top, bottom), slice(left, right))
    patch = target[box]
    # a square closing fills every dark structure thinner than the square (a rim, a
    # temple) and is separable, so it costs the same at any size
    closed = cv2.morphologyEx(patch, cv2.MORPH_CLOSE, np.ones((kernel, kernel), np.uint8))
    gray = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY).astype(np.float32)
    around = cv2.cvtColor(closed, cv2.COLOR_BGR2GRAY).astype(np.float32)
    dark = np.where((gray < darkness * around) & (zone[box] > 0), np.uint8(255), np.uint8(0))
    mask = np.zeros_like(zone)
    # a frame's anti-aliased rim is a pixel or two wider than its dark core
    mask[box] = cv2.dilate(dark, np.ones((3, 3), np.uint8))
    if not mask.any():
        return target, mask
    # the closing is blocky (square kernel): a blur of a third of its size hides that
    smooth = max(3, kernel // 3)
    filled = cv2.blur(closed, (smooth, smooth))
    cleaned = target.copy()
    np.copyto(cleaned[box], filled, where=(mask[box] > 0)[:, :, None])
    return cleaned, mask
