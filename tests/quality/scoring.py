"""Scores of one swapped face, as pure functions of landmarks, images and distances."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import cv2
import numpy as np

from faceport.engine._seam import seam_step

# dlib's 68-point layout: the two eyes' contours
LEFT_EYE_68 = slice(36, 42)
RIGHT_EYE_68 = slice(42, 48)


def inter_ocular(points68: np.ndarray) -> float:
    """Distance between the two eye centres of a 68-point set."""
    left = points68[LEFT_EYE_68].mean(axis=0)
    right = points68[RIGHT_EYE_68].mean(axis=0)
    return float(np.linalg.norm(right - left))


def pose_error(result68: np.ndarray, target68: np.ndarray) -> float:
    """Mean landmark distance of the result from the target, in inter-ocular distances.

    0 means the new face sits exactly where the target's was, with its expression; 0.1
    is a tenth of the eye spacing on average.
    """
    distances = np.linalg.norm(result68 - target68, axis=1)
    return float(distances.mean() / max(inter_ocular(target68), 1e-6))


def dark_line_strength(gray: np.ndarray, kernel: int) -> np.ndarray:
    """Black-hat response: how much darker each pixel is than its closed surroundings.

    Thin dark structures narrower than `kernel` (a glasses frame, an eyelash line) light
    up; broad shading does not.
    """
    shape = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))
    return cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, shape).astype(np.float32)


def glasses_band(
    shape: tuple[int, ...], eye_centres: Sequence[tuple[float, float]], inter_ocular_px: float
) -> np.ndarray:
    """Where a glasses frame runs around the eyes: rings 0.3-0.9 inter-ocular distances
    around each eye centre, less the part straight above the eye (the brow)."""
    band = np.zeros(shape[:2], bool)
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    for x, y in eye_centres:
        distance = np.hypot(xs - x, ys - y)
        ring = (distance >= 0.3 * inter_ocular_px) & (distance <= 0.9 * inter_ocular_px)
        brow = (ys < y) & (np.abs(xs - x) < 0.45 * inter_ocular_px)
        band |= ring & ~brow
    return band


def glasses_ghost(
    target_gray: np.ndarray,
    result_gray: np.ndarray,
    eye_centres: Sequence[tuple[float, float]],
    *,
    threshold: float = 25.0,
) -> float | None:
    """How much of the target's glasses frame still shows in the result (0 gone, 1 all).

    The frame is where the target has strong dark lines in the glasses band; the score is
    the median dark-line strength of the result there over the target's. None when the
    target shows no frame.
    """
    (lx, ly), (rx, ry) = eye_centres[0], eye_centres[1]
    iod = float(np.hypot(rx - lx, ry - ly))
    kernel = max(3, round(0.12 * iod)) | 1
    target_lines = dark_line_strength(target_gray, kernel)
    frame = glasses_band(target_gray.shape, eye_centres, iod) & (target_lines > threshold)
    if frame.sum() < 20:
        return None
    result_lines = dark_line_strength(result_gray, kernel)
    return float(np.median(result_lines[frame]) / np.median(target_lines[frame]))


def summarise(values: Sequence[float], *, worst_is_high: bool = True) -> tuple[float, float]:
    """(median, worst) of a column; worst is the maximum, or the minimum when low is bad."""
    worst = max(values) if worst_is_high else min(values)
    return statistics.median(values), worst


def _lab(frame: np.ndarray) -> np.ndarray:
    """CIELAB in its own units (L 0-100, a and b about -100..100): distances are Delta E."""
    return cv2.cvtColor(frame.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_BGR2LAB)


def seam_score(
    target: np.ndarray, result: np.ndarray, weights: np.ndarray, iod: float, sectors: int = 24
) -> tuple[float, float]:
    """(colour, gradient) discontinuity of the blend boundary, beyond what the target has.

    Colour: the engine's own measure (`faceport.engine._seam.seam_step`, which the swap
    also checks its blend with): around the face, in `sectors` angular sectors, the LAB
    distance between the mean of a ring just inside the full-weight region and a ring just
    outside everything the swap touched, in the result, less the same distance in the
    target; the worst sector, as Delta E. Gradient: the mean gradient magnitude across the
    transition band in the result over that in the target (1 = as textured as before; well
    above 1 is a drawn edge, well below a smeared one).
    """
    changed = np.where(weights > 0, np.uint8(255), np.uint8(0))
    full = np.where(weights >= 250, np.uint8(255), np.uint8(0))
    if not full.any():
        return 0.0, 1.0
    width = max(2, round(0.08 * iod))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    band = (cv2.dilate(changed, kernel) > 0) & (cv2.erode(full, kernel) == 0)

    def gradient(frame: np.ndarray) -> float:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
        magnitude = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
        return float(magnitude[band].mean())

    colour = seam_step(target, result, weights, iod, sectors)
    return colour, gradient(result) / max(gradient(target), 1e-3)


def patch_score(
    target: np.ndarray,
    result: np.ndarray,
    weights: np.ndarray,
    iod: float,
    *,
    colour_step: float = 10.0,
    flatness: float = 3.0,
) -> float:
    """The largest flat off-colour blob inside the new face, as a fraction of the face.

    At a scale of a fifth of the eye distance (features are the new person's, shading and
    colour should be the target's) the result is compared with the target; pixels more
    than `colour_step` LAB units off that are also flat (a local grey-level deviation
    under `flatness`: no skin texture) are a patch, such as a pale blotch where a global
    colour transfer missed a shadow, or smeared skin where the warp ran out of source. The
    score is the area of the largest connected such blob over the full-weight face area.
    """
    face = weights >= 128
    area = int(face.sum())
    if area == 0:
        return 0.0
    sigma = max(1.0, 0.2 * iod)
    off = np.linalg.norm(
        cv2.GaussianBlur(_lab(result), (0, 0), sigma)
        - cv2.GaussianBlur(_lab(target), (0, 0), sigma),
        axis=2,
    )
    gray = cv2.cvtColor(result, cv2.COLOR_BGR2GRAY).astype(np.float32)
    window = max(3, round(0.08 * iod)) | 1
    mean = cv2.blur(gray, (window, window))
    deviation = np.sqrt(np.maximum(cv2.blur(gray * gray, (window, window)) - mean * mean, 0.0))
    patch = np.where(face & (off > colour_step) & (deviation < flatness), np.uint8(1), np.uint8(0))
    count, _, stats, _ = cv2.connectedComponentsWithStats(patch, connectivity=8)
    if count <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max() / area)
