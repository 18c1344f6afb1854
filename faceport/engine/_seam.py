"""How visible a blend's edge is: the colour step across it beyond the target's own."""

from __future__ import annotations

import cv2
import numpy as np

from ._types import Frame, Mask

# a sector's ring needs this many pixels for its mean to count
_MIN_PIXELS = 10


class SeamCheck:
    """The seam measure of blends by one set of `weights` into one `target`: the rings
    and the target's own steps are found once, so each blend checked costs only its own
    means (ARCHITECTURE.md, "Seam fallback")."""

    def __init__(
        self,
        target: Frame,
        weights: Mask,
        inter_ocular: float,
        sectors: int = 24,
        *,
        stride: int = 1,
    ):
        """With `stride` > 1, the rings are found on every stride-th row and column only
        (the weights are not averaged, so their thresholds stay where they are), at a
        stride-squared share of the cost: a screen that reads within a few Delta E of the
        full measure."""
        self._sectors = sectors
        self._pixels = np.empty(0, np.int64)
        self.centre = (0.0, 0.0)
        sampled = weights[::stride, ::stride]
        _, changed = cv2.threshold(sampled, 0, 255, cv2.THRESH_BINARY)
        _, full = cv2.threshold(sampled, 249, 255, cv2.THRESH_BINARY)
        if not cv2.countNonZero(full):
            return
        width = max(2, round(0.08 * inter_ocular / stride))
        # distances rather than a disc's erosion and dilation: the same rings at a fifth of
        # the cost; every pixel of a region is at least 1 from its edge, so (0.5, width]
        inner = cv2.inRange(cv2.distanceTransform(full, cv2.DIST_L2, 5), 0.5, width)
        outside = cv2.bitwise_not(changed)
        outer = cv2.inRange(cv2.distanceTransform(outside, cv2.DIST_L2, 5), 0.5, width)
        moments = cv2.moments(full, binaryImage=True)
        centre = (moments["m10"] / moments["m00"], moments["m01"] / moments["m00"])
        self.centre = (centre[0] * stride, centre[1] * stride)
        # both rings' pixels in one array, grouped by ring then sector, so one gather, one
        # conversion and one sum per group measure a frame
        rings = [_sector_points(ring, centre, sectors) for ring in (inner, outer)]
        labels = np.concatenate([rings[0][2], rings[1][2] + np.int16(sectors)])
        # 16-bit labels: numpy's stable sort is a radix sort on them
        order = np.argsort(labels, kind="stable")
        xs = np.concatenate([rings[0][0], rings[1][0]])[order]
        ys = np.concatenate([rings[0][1], rings[1][1]])[order]
        self._pixels = ys * stride * weights.shape[1] + xs * stride
        self._counts = np.bincount(labels, minlength=2 * sectors)
        starts = np.concatenate([[0], np.cumsum(self._counts)[:-1]])
        self._starts = np.minimum(starts, len(self._pixels) - 1)
        self._target_steps = self._steps(target)

    def step(self, result: Frame) -> float:
        """The worst colour step across the blend's edge in `result`, as Delta E (about 2
        is a just visible step, 10 an obvious one): per angular sector about the
        full-weight region's centre, the distance between the mean CIELAB colour of a
        ring just inside the full-weight region (weights 250 or more) and of a ring just
        outside all the blend changed, both 0.08 inter-ocular distances wide, less the
        same in the target (a hair line or a jaw shadow is a real edge there too);
        sectors with under 10 pixels in a ring are skipped."""
        return worst_step(self.sector_steps(result))

    def sector_steps(self, result: Frame) -> np.ndarray:
        """`step`'s colour step in each angular sector about `centre`; NaN where a ring
        has too few pixels."""
        if not len(self._pixels):
            return np.full(self._sectors, np.nan)
        steps: np.ndarray = self._steps(result) - self._target_steps
        return steps

    def _steps(self, image: Frame) -> np.ndarray:
        """Per sector, the Delta E between the mean colours of `image` on the two rings;
        NaN where either ring has too few pixels in the sector."""
        pixels = image.reshape(-1, 3)[self._pixels]
        # 8-bit LAB on the rings' pixels only, scaled after the means (they are linear):
        # ~25x faster than the float conversion, and means of thousands of pixels lose
        # nothing to its rounding
        lab = cv2.cvtColor(pixels.reshape(1, -1, 3), cv2.COLOR_BGR2LAB).reshape(-1, 3)
        sums = np.add.reduceat(lab, self._starts, axis=0, dtype=np.int64)
        means = sums / np.maximum(self._counts, 1)[:, None] * (100 / 255, 1, 1)
        means[self._counts < _MIN_PIXELS] = np.nan
        inner, outer = means[: self._sectors], means[self._sectors :]
        result: np.ndarray = np.linalg.norm(inner - outer, axis=1)
        return result


def seam_step(
    target: Frame, result: Frame, weights: Mask, inter_ocular: float, sectors: int = 24
) -> float:
    """The worst colour step across the edge of the blend `weights` put `result` into
    `target` by (`SeamCheck.step`); `make quality` scores the swap with it."""
    return SeamCheck(target, weights, inter_ocular, sectors).step(result)


def worst_step(sector_steps: np.ndarray) -> float:
    """The largest of `SeamCheck.sector_steps`, 0 if none is counted or above 0."""
    counted = sector_steps[np.isfinite(sector_steps)]
    return float(max(0.0, counted.max())) if counted.size else 0.0


def by_sector(
    shape: tuple[int, ...], centre: tuple[float, float], values: np.ndarray
) -> np.ndarray:
    """An image of `shape`'s rows and columns holding, at each pixel, `values` (one per
    angular sector about `centre`, as `SeamCheck.sector_steps`) interpolated by the
    pixel's angle between the sectors' middles, as float32. Found on every fourth pixel
    and enlarged: it varies only with the angle, and a quarter costs a sixteenth."""
    height, width = shape[:2]
    small = (-(-height // 4), -(-width // 4))
    # each small pixel at the middle of the four it stands for, as cv2.resize takes it
    rows, columns = np.indices(small, dtype=np.float32) * np.float32(4) + np.float32(1.5)
    angles = cv2.phase(columns - np.float32(centre[0]), rows - np.float32(centre[1]))
    sectors = len(values)
    position = (angles + np.pi) % (2 * np.pi) * (sectors / (2 * np.pi)) - 0.5
    spread = np.interp(position, np.arange(sectors), values, period=sectors)
    enlarged = cv2.resize(spread.astype(np.float32), (small[1] * 4, small[0] * 4))
    result: np.ndarray = enlarged[:height, :width]
    return result


def _sector_points(
    ring: Mask, centre: tuple[float, float], sectors: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns and rows of `ring`'s pixels and the angular sector about `centre` of
    each."""
    points = cv2.findNonZero(ring)
    if points is None:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int16)
    xs, ys = points[:, 0, 0], points[:, 0, 1]
    # cv2.phase: the angle from +x in [0, 2 pi), as arctan2 + pi from -x
    angles = cv2.phase(xs - np.float32(centre[0]), ys - np.float32(centre[1]))
    labels = ((angles.ravel() + np.pi) % (2 * np.pi) * (sectors / (2 * np.pi))).astype(np.int16)
    return xs.astype(np.int64), ys.astype(np.int64), np.minimum(labels, np.int16(sectors - 1))
