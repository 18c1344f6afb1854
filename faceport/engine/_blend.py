"""Masks and blending of the warped face into the target frame."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from ._detect import shrink
from ._types import Box, Frame, Landmarks, Mask


def face_blend_mask(
    covered: Mask,
    hull_landmarks: Landmarks,
    mouth_landmarks: Landmarks,
    *,
    feather: int,
    hull_scale: float = 1.0,
    forehead_scale: float = 1.0,
) -> Mask:
    """Return the blend weights (0..255) for the face inside its ROI.

    The region is the convex hull of `hull_landmarks`, scaled by `hull_scale` about its
    centre, its upper half pulled down further by `forehead_scale` (the mesh reaches the
    hairline, and a fringe in the source would otherwise come along as a brown band),
    limited to the pixels the warp covered. Weights fade from 255 at `feather`
    pixels inside the edge to 0 at the edge, so nothing outside the region (hair,
    background) changes. The target's inner mouth is cut out so its teeth and tongue
    stay, and the source lips close around them whatever the two expressions are.
    """
    hull = cv2.convexHull(hull_landmarks.astype(np.float32)).reshape(-1, 2)
    centre = hull.mean(axis=0)
    offset = (hull - centre) * hull_scale
    offset[:, 1] = np.where(offset[:, 1] < 0, offset[:, 1] * forehead_scale, offset[:, 1])
    hull = centre + offset
    mask = np.zeros_like(covered)
    cv2.fillConvexPoly(mask, np.rint(hull).astype(np.int32), 255)
    mask = cv2.bitwise_and(mask, covered)
    if len(mouth_landmarks) >= 3:
        cv2.fillPoly(mask, [np.rint(mouth_landmarks).astype(np.int32)], 0)
    return feathered(mask, feather)


_LEVELS = np.arange(256) / 255.0
_SMOOTHSTEP = np.rint(_LEVELS * _LEVELS * (3.0 - 2.0 * _LEVELS) * 255.0).astype(np.uint8)


def region_of(weights: Mask) -> Mask:
    """255 where `weights` are above 0, else 0."""
    return cv2.threshold(weights, 0, 255, cv2.THRESH_BINARY)[1]


def feathered(region: Mask, feather: int) -> Mask:
    """Weights 0..255 of `region` (0/255) rising from 0 at its edge to 255 `feather`
    pixels inside; `region` itself when `feather` <= 0."""
    if feather <= 0:
        return region
    # distance to the nearest pixel outside gives a fade that is zero right at the edge,
    # in one pass (erode + blur with feather-sized kernels cost several times more)
    distance = cv2.distanceTransform(region, cv2.DIST_L2, cv2.DIST_MASK_3)
    # the ramp 0..1 in 256 steps, then smoothstep (no visible kink at either end) through
    # a table: two cv2 passes instead of five numpy ones
    ramp = cv2.convertScaleAbs(distance, alpha=255.0 / feather)
    return cv2.LUT(ramp, _SMOOTHSTEP)


@functools.cache
def _narrowed_feather_table(share: float) -> np.ndarray:
    """From a weight of `feathered` (smoothstep of the distance over the feather) to the
    weight of the same edge feathered over `share` of that distance."""
    ramps = np.linspace(0.0, 1.0, 4097)
    # the ramp each weight came from: smoothstep inverted by interpolation (it is monotone)
    ramp = np.interp(_LEVELS, ramps * ramps * (3.0 - 2.0 * ramps), ramps)
    narrow = np.minimum(1.0, ramp / share)
    return np.rint(narrow * narrow * (3.0 - 2.0 * narrow) * 255.0).astype(np.uint8)


def narrowed_feather(weights: Mask, share: float) -> Mask:
    """`weights` (made by `feathered`) with every fade `share` (0..1] times as wide: the
    same region, reaching full weight sooner; 0 exactly where `weights` is 0."""
    return cv2.LUT(weights, _narrowed_feather_table(share))


def alpha_blend_roi(target: Frame, face: Frame, weights: Mask) -> Frame:
    """Return `target` with `face` laid over it in proportion to `weights` (both ROI-sized).

    Pixels with weight 0 are copied from `target` unchanged.
    """
    # cv2.blendLinear does the per-pixel mix in one parallel pass (~10x numpy's float math),
    # and at weight 0 it returns the target's byte exactly (the quality run checks it)
    face_weight = weights.astype(np.float32) * np.float32(1.0 / 255.0)
    return cv2.blendLinear(target, face, 1.0 - face_weight, face_weight)


def paste_roi(frame: Frame, patch: Frame, roi: Box) -> Frame:
    """Return a copy of `frame` with `patch` written over the pixels of `roi`."""
    result = frame.copy()
    result[roi.top : roi.bottom, roi.left : roi.right] = patch
    return result


def skin_likeness(frame: Frame, reference: Mask) -> Mask:
    """255 where `frame` has the colour of the skin under `reference`, else 0.

    The skin is the median of the reference pixels in 8-bit LAB with a spread of 2.5
    median absolute deviations (at least 6 levels of colour, 40 of lightness, so shading
    stays skin); hair, a fringe, a hand or the background differ by more.
    """
    lab = cv2.cvtColor(frame, cv2.COLOR_BGR2LAB)
    # every third row and column: the same median at a ninth of the cost
    samples = lab[::3, ::3][reference[::3, ::3] > 0].astype(np.float32)
    if len(samples) < 16:
        return np.full(frame.shape[:2], 255, np.uint8)
    centre = np.median(samples, axis=0)
    spread = 2.5 * np.median(np.abs(samples - centre), axis=0)
    spread = np.maximum(spread * 1.4826, (40.0, 6.0, 6.0))
    low = np.clip(centre - spread, 0, 255).astype(np.uint8)
    high = np.clip(centre + spread, 0, 255).astype(np.uint8)
    return cv2.inRange(lab, low, high)


def restrict_weights(weights: Mask, keep: Mask, feather: int) -> Mask:
    """`weights` limited to where `keep` is set, with a fresh feather of `feather` pixels
    along the new edge (never above the old weights, so the region only shrinks)."""
    region = cv2.bitwise_and(region_of(weights), keep)
    return cv2.min(weights, feathered(region, feather))


def feature_region(shape: tuple[int, ...], points: Landmarks, scale: float = 1.15) -> Mask:
    """The convex hull of the face's feature points (`_landmarks.FEATURE_POINTS`), scaled
    by `scale` about its centre: the part of the face kept whatever its colour."""
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2)
    centre = hull.mean(axis=0)
    region = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(region, np.rint(centre + (hull - centre) * scale).astype(np.int32), 255)
    return region


def reaching_in(skin: Mask, region: Mask) -> Mask:
    """255 outside `region` and where non-skin inside it connects to the outside: hair, a
    hat or a beard coming in over the face's edge, not a shadow, make-up or a freckle the
    skin surrounds."""
    open_ground = cv2.bitwise_not(cv2.bitwise_and(skin, region))
    count, labels = cv2.connectedComponents(open_ground, connectivity=4)
    # a table from component to 255 if any of its pixels lies outside the region
    table = np.where(np.bincount(labels[region == 0], minlength=count) > 0, 255, 0)
    table[0] = 0  # component 0 is the skin inside the region
    return table.astype(np.uint8)[labels]


def keep_on_skin(target: Frame, face: Frame, features: Mask, region: Mask, size: int) -> Mask:
    """Where the new face may go inside `region`: the feature region, and elsewhere
    wherever neither the target nor the warped source has something other than skin
    (`skin_likeness`, measured on the feature region) reaching in over the region's edge
    (`reaching_in`), cleaned of specks and pinholes `size` pixels across.

    Found at half the resolution (the mask is that coarse anyway, and it costs a quarter).
    """
    height, width = features.shape[:2]
    reference = shrink(features, 0.5)
    small = shrink(region, 0.5)
    # each face on its own (the target's make-up is not cut because the source's fringe
    # touches it); the features count as skin, so make-up around them is enclosed too
    reaching = [
        reaching_in(cv2.bitwise_or(skin_likeness(shrink(image, 0.5), reference), reference), small)
        for image in (target, face)
    ]
    skin = cv2.bitwise_not(cv2.bitwise_or(reaching[0], reaching[1]))
    # a square kernel: separable, so the opening and closing cost the same at any size
    kernel = np.ones((max(1, size // 2) | 1,) * 2, np.uint8)
    skin = cv2.morphologyEx(skin, cv2.MORPH_OPEN, kernel)
    skin = cv2.morphologyEx(skin, cv2.MORPH_CLOSE, kernel)
    full = cv2.resize(skin, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.bitwise_or(np.where(full >= 128, np.uint8(255), np.uint8(0)), features)
