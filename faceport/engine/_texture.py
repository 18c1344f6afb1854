"""Matching the new face's sharpness and grain to the target's (see ARCHITECTURE.md)."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from ._types import Frame, Mask


def detail(gray: np.ndarray) -> np.ndarray:
    """The finest detail of a float32 grey image: itself less a blur of sigma 1."""
    result: np.ndarray = cv2.subtract(gray, cv2.GaussianBlur(gray, (0, 0), 1.0))
    return result


GRAIN_TILE = 256


@functools.cache
def grain_tile() -> np.ndarray:
    """A fixed tile of Gaussian noise whose `detail` has a standard deviation of 1 (so it
    adds exactly the detail strength it is scaled to), the same grain every call."""
    noise = np.random.default_rng(0).standard_normal((GRAIN_TILE, GRAIN_TILE), dtype=np.float32)
    tile: np.ndarray = noise / np.float32(detail(noise).std())
    tile.setflags(write=False)
    return tile


def grain(shape: tuple[int, ...]) -> np.ndarray:
    """Noise of `shape` (2-D) with a detail strength of 1, tiled from `grain_tile`."""
    reps = (-(-shape[0] // GRAIN_TILE), -(-shape[1] // GRAIN_TILE))
    return np.tile(grain_tile(), reps)[: shape[0], : shape[1]]


def match_sharpness(
    face: Frame, target: Frame, mask: Mask, *, max_gain: float = 2.5, max_grain: float = 4.0
) -> Frame:
    """Return `face` with the fine-detail strength of `target` inside `mask`.

    A source face smaller than the target's arrives upsampled and soft; one larger
    arrives crisper than a soft target. The detail layer of `face` is scaled by the ratio
    of the two detail strengths (standard deviations inside `mask`), at most `max_gain`
    up; what the target has beyond that (sensor grain the source never had) is added as
    fixed noise of the missing strength, at most `max_grain` grey levels, grey, so it
    looks like grain, not colour speckle. Returns `face` itself when there is nothing to
    match (within 10 %).
    """
    binary = np.where(mask > 0, np.uint8(255), np.uint8(0))
    if cv2.countNonZero(binary) < 16:
        return face
    face_detail = detail(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY).astype(np.float32))
    target_detail = detail(cv2.cvtColor(target, cv2.COLOR_BGR2GRAY).astype(np.float32))
    face_strength = float(cv2.meanStdDev(face_detail, mask=binary)[1][0, 0])
    target_strength = float(cv2.meanStdDev(target_detail, mask=binary)[1][0, 0])
    if face_strength < 1e-3 or abs(target_strength / face_strength - 1.0) < 0.1:
        return face
    gain = min(max_gain, target_strength / face_strength)
    change = cv2.multiply(face_detail, gain - 1.0)
    missing = target_strength**2 - (gain * face_strength) ** 2
    if missing > 1.0:
        change = cv2.scaleAdd(grain(change.shape), min(max_grain, float(np.sqrt(missing))), change)
    return cv2.add(
        face.astype(np.float32), cv2.cvtColor(change, cv2.COLOR_GRAY2BGR), dtype=cv2.CV_8U
    )
