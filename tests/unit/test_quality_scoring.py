"""The scores `make quality` prints, on inputs whose answer is known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.quality.scoring import (
    glasses_ghost,
    inter_ocular,
    patch_score,
    pose_error,
    seam_score,
    summarise,
)


def face68(eye_gap: float = 40.0) -> np.ndarray:
    """68 points whose eye centres (points 36-41 and 42-47) are `eye_gap` apart."""
    points = np.random.default_rng(1).uniform(0, 100, (68, 2))
    points[36:42] = (30.0, 50.0)
    points[42:48] = (30.0 + eye_gap, 50.0)
    return points


def test_inter_ocular_is_the_eye_centre_distance():
    assert inter_ocular(face68(40)) == pytest.approx(40)


def test_pose_error_is_zero_for_the_same_points_and_scales_with_the_eyes():
    target = face68(40)
    assert pose_error(target, target) == 0
    # every point 4 px off is a tenth of a 40 px eye spacing
    shift = np.array([4.0, 0.0])
    assert pose_error(target + shift, target) == pytest.approx(0.1)
    assert pose_error(face68(80) + shift, face68(80)) == pytest.approx(0.05)


EYES = [(60.0, 60.0), (140.0, 60.0)]


def with_frame(gray: np.ndarray) -> np.ndarray:
    framed = gray.copy()
    for x, y in EYES:
        cv2.ellipse(framed, (round(x), round(y)), (36, 26), 0, 0, 360, 20, 3)
    return framed


def test_glasses_ghost_is_1_when_the_frame_stays_and_0_when_it_is_gone():
    skin = np.full((140, 200), 170, np.uint8)
    target = with_frame(skin)

    assert glasses_ghost(target, target, EYES) == pytest.approx(1.0)
    assert glasses_ghost(target, skin, EYES) == pytest.approx(0.0)
    half = cv2.addWeighted(target, 0.5, skin, 0.5, 0)
    assert glasses_ghost(target, half, EYES) == pytest.approx(0.5, abs=0.05)


def test_no_frame_no_ghost_score():
    skin = np.full((140, 200), 170, np.uint8)
    assert glasses_ghost(skin, skin, EYES) is None


def test_summarise_takes_the_worst_end_the_column_asks_for():
    assert summarise([0.3, 0.1, 0.5]) == (0.3, 0.5)
    assert summarise([0.3, 0.1, 0.5], worst_is_high=False) == (0.3, 0.1)


def blended_face(offset: float, *, hard: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A textured target, the same with a disc (the "face") `offset` grey levels brighter,
    and the disc's weights (feathered, or a hard edge)."""
    target = np.clip(np.random.default_rng(3).normal(140, 12, (200, 200, 3)), 0, 255)
    target = target.astype(np.uint8)
    weights = np.zeros((200, 200), np.uint8)
    cv2.circle(weights, (100, 100), 60, 255, -1)
    if not hard:
        distance = cv2.distanceTransform(weights, cv2.DIST_L2, 3)
        weights = np.clip(distance * (255 / 12), 0, 255).astype(np.uint8)
    alpha = weights[:, :, None] / 255.0
    result = np.clip(target + offset * alpha, 0, 255).astype(np.uint8)
    return target, result, weights


def test_seam_score_is_zero_without_a_step_and_grows_with_one():
    target, same, weights = blended_face(0, hard=True)
    assert seam_score(target, same, weights, iod=60)[0] == pytest.approx(0, abs=0.5)
    _, stepped, _ = blended_face(40, hard=True)
    colour, gradient = seam_score(target, stepped, weights, iod=60)
    assert colour > 8
    assert gradient > 1.0


def test_patch_score_finds_a_flat_off_colour_blob():
    target, result, weights = blended_face(0, hard=True)
    assert patch_score(target, result, weights, iod=60) == 0
    cv2.rectangle(result, (80, 80), (120, 120), (235, 235, 235), -1)  # a pale flat patch
    share = patch_score(target, result, weights, iod=60)
    assert share == pytest.approx(40 * 40 / (np.pi * 60 * 60), rel=0.5)
