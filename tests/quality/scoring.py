"""Scores of one swapped face, as pure functions of landmarks, images and distances."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import cv2
import numpy as np

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
