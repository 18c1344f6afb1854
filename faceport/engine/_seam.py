"""How visible a blend's edge is: the colour step across it beyond the target's own."""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from ._types import Frame, Mask


class _Ring(NamedTuple):
    """A ring's pixels, each one's sector, and how many pixels each sector has."""

    ys: np.ndarray
    xs: np.ndarray
    sectors: np.ndarray
    counts: np.ndarray


def seam_step(
    target: Frame,
    result: Frame,
    weights: Mask,
    inter_ocular: float,
    sectors: int = 24,
    *,
    stride: int = 1,
) -> float:
    """The worst colour step across the edge of the blend `weights` put `result` into
    `target` by, as Delta E (about 2 is a just visible step, 10 an obvious one).

    In `sectors` angular sectors about the full-weight region's centre: the distance
    between the mean CIELAB colour of a ring just inside the full-weight region (weights
    250 or more) and of a ring just outside all the blend changed, both 0.08
    `inter_ocular` wide, in `result`, less the same in `target` (a hair line or a jaw
    shadow is a real edge there too); sectors with under 10 pixels in a ring are skipped.
    `make quality` scores the swap with it, and the swap checks its own blend with it
    (ARCHITECTURE.md, "Seam fallback"). With `stride` > 1, the rings are found on every
    stride-th row and column only (the weights are not averaged, so their thresholds
    stay where they are), at a stride-squared share of the cost.
    """
    sampled = weights[::stride, ::stride]
    changed = np.where(sampled > 0, np.uint8(255), np.uint8(0))
    full = np.where(sampled >= 250, np.uint8(255), np.uint8(0))
    if not full.any():
        return 0.0
    width = max(2, round(0.08 * inter_ocular / stride))
    # distances rather than a disc's erosion and dilation: the same rings, at a fifth of the cost
    inner = (full > 0) & (cv2.distanceTransform(full, cv2.DIST_L2, 5) <= width)
    outer = (changed == 0) & (cv2.distanceTransform(~changed, cv2.DIST_L2, 5) <= width)
    moments = cv2.moments(full, binaryImage=True)
    centre = (moments["m10"] / moments["m00"], moments["m01"] / moments["m00"])
    rings = [_ring(mask, centre, sectors) for mask in (inner, outer)]
    steps = [_sector_steps(image[::stride, ::stride], rings) for image in (result, target)]
    differences = steps[0] - steps[1]
    counted = differences[np.isfinite(differences)]
    return float(max(0.0, counted.max())) if counted.size else 0.0


def _ring(mask: np.ndarray, centre: tuple[float, float], sectors: int) -> _Ring:
    ys, xs = np.nonzero(mask)
    angles = np.arctan2(ys - centre[1], xs - centre[0])
    labels = ((angles + np.pi) / (2 * np.pi) * sectors).astype(np.int32) % sectors
    return _Ring(ys, xs, labels, np.bincount(labels, minlength=sectors).astype(np.float64))


def _sector_steps(image: Frame, rings: list[_Ring]) -> np.ndarray:
    """Per sector, the Delta E between the mean colours of `image` on the two rings; NaN
    where either ring has fewer than 10 pixels in the sector."""
    means = []
    for ring in rings:
        # 8-bit LAB on the ring's pixels only: ~25x faster than the float conversion, and
        # the means of thousands of pixels lose nothing to its rounding
        lab = _lab_of(image[ring.ys, ring.xs])
        sums = np.stack(
            [np.bincount(ring.sectors, lab[:, c], minlength=len(ring.counts)) for c in range(3)],
            axis=1,
        )
        mean = sums / np.maximum(ring.counts, 1)[:, None]
        mean[ring.counts < 10] = np.nan
        means.append(mean)
    result: np.ndarray = np.linalg.norm(means[0] - means[1], axis=1)
    return result


def _lab_of(pixels: np.ndarray) -> np.ndarray:
    """CIELAB (L 0-100, a and b about 0) of N x 3 8-bit BGR `pixels`, converted in rows of
    64: OpenCV converts one long row ~40x slower than the same pixels in short rows."""
    count = len(pixels)
    padded = np.zeros((-(-count // 64) * 64, 3), np.uint8)
    padded[:count] = pixels
    lab = cv2.cvtColor(padded.reshape(-1, 64, 3), cv2.COLOR_BGR2LAB).reshape(-1, 3)[:count]
    result: np.ndarray = lab.astype(np.float64) * (100 / 255, 1, 1) - (0, 128, 128)
    return result
