"""The scores `make quality` prints, on inputs whose answer is known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.quality.scoring import glasses_ghost, inter_ocular, pose_error, summarise


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
