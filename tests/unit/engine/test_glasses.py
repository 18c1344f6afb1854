"""Filling in a glasses frame where the blend feathers out, and nowhere else."""

from __future__ import annotations

import cv2
import numpy as np

from faceport.engine import EngineSettings, swap_face_frames
from faceport.engine._glasses import eye_band, remove_glasses_frame
from tests.support import images

EYES = np.array([[70.0, 80.0], [150.0, 80.0]], np.float32)  # 80 px apart


def feathered_face(shape: tuple[int, int]) -> np.ndarray:
    """Weights 255 in an inner ellipse fading to 0 at an outer one (like face_blend_mask)."""
    weights = np.zeros(shape, np.uint8)
    for axes, value in (((95, 110), 128), ((75, 90), 255)):
        cv2.ellipse(weights, (110, 110), axes, 0, 0, 360, value, -1)
    return weights


def test_eye_band_follows_a_rolled_eye_line():
    rolled = np.array([[50.0, 50.0], [100.0, 100.0]], np.float32)  # 45 degrees
    band = eye_band((200, 200), rolled, 0.1, 0.1)
    assert band[75, 75] == 255 and band[150, 150] == 255  # along the line
    assert band[50, 100] == 0 and band[100, 50] == 0  # off it


def test_a_frame_in_the_feather_is_filled_and_the_rest_is_kept():
    target = np.full((220, 220, 3), 175, np.uint8)
    weights = feathered_face((220, 220))
    # a dark temple bar at eye level crossing the feather, and a dark mark far below
    cv2.line(target, (5, 80), (60, 80), (25, 25, 25), 5)
    cv2.rectangle(target, (100, 200), (110, 210), (25, 25, 25), -1)

    cleaned, mask = remove_glasses_frame(target, weights, EYES)

    bar_in_feather = (slice(78, 83), slice(25, 32))
    assert mask[bar_in_feather].all()
    assert cleaned[bar_in_feather].min() > 150  # skin again
    assert not mask[195:215, 95:115].any()  # not at eye level: kept
    assert np.array_equal(cleaned[mask == 0], target[mask == 0])


def test_no_dark_lines_nothing_changes():
    target = np.full((220, 220, 3), 175, np.uint8)

    cleaned, mask = remove_glasses_frame(target, feathered_face((220, 220)), EYES)

    assert not mask.any() and np.array_equal(cleaned, target)


def frame_darkness_near_the_temples(result: np.ndarray, target: np.ndarray, weights) -> float:
    """Mean darkness of the result at the target's dark pixels in the feather zone."""
    gray_t = cv2.cvtColor(target, cv2.COLOR_BGR2GRAY)
    gray_r = cv2.cvtColor(result, cv2.COLOR_BGR2GRAY)
    dark_in_feather = (gray_t < 60) & (weights > 0) & (weights < 255)
    return float(255 - gray_r[dark_in_feather].mean())


def test_swap_onto_a_glasses_wearer_shows_less_of_the_frame():
    source, target = images.astronaut_bgr(), images.grace_hopper_bgr()
    kept = swap_face_frames(source, target, settings=EngineSettings(remove_glasses_frame=False))
    removed = swap_face_frames(source, target)

    roi = kept.roi
    crop = (slice(roi.top, roi.bottom), slice(roi.left, roi.right))
    weights = np.zeros(target.shape[:2], np.uint8)
    weights[crop] = kept.weights
    before = frame_darkness_near_the_temples(kept.frame, target, weights)
    after = frame_darkness_near_the_temples(removed.frame, target, weights)
    print(f"frame darkness in the feather: kept {before:.0f}, removed {after:.0f}")
    assert after < before - 20
    # and outside what it reports as changed, the result is still the target
    changed = np.zeros(target.shape[:2], bool)
    r = removed.roi
    changed[r.top : r.bottom, r.left : r.right] = removed.weights > 0
    assert np.array_equal(removed.frame[~changed], target[~changed])
