from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceport.engine import Box
from faceport.engine._blend import alpha_blend_roi, face_blend_mask, paste_roi
from faceport.engine._colour import transfer_lab_statistics
from faceport.engine._detect import (
    detect_faces,
    detection_scale,
    order_largest_first,
    reduced_gray,
)
from faceport.engine._png import encode_png
from faceport.engine._warp import warp_face_to_landmarks


def test_order_largest_first_sorts_by_area():
    small = Box(0, 0, 10, 10)
    large = Box(50, 50, 150, 140)
    medium = Box(200, 0, 240, 40)

    assert order_largest_first([small, large, medium]) == [large, medium, small]


def test_order_largest_first_breaks_ties_left_to_right():
    right = Box(100, 0, 120, 20)
    left = Box(0, 0, 20, 20)

    assert order_largest_first([right, left]) == [left, right]


@pytest.mark.parametrize(
    ("shape", "max_side", "expected"),
    [((1000, 500, 3), 640, 0.64), ((300, 200, 3), 640, 1.0), ((640, 1280), 640, 0.5)],
)
def test_detection_scale_caps_the_longer_side(shape, max_side, expected):
    assert detection_scale(shape, max_side) == pytest.approx(expected)


def _lab_stats(frame: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = cv2.meanStdDev(cv2.cvtColor(frame, cv2.COLOR_BGR2LAB), mask=mask)
    return mean.ravel(), std.ravel()


def test_colour_transfer_moves_mean_and_std_to_the_target():
    rng = np.random.default_rng(11)
    source = np.clip(rng.normal((60, 90, 170), 12, size=(64, 64, 3)), 0, 255).astype(np.uint8)
    target = np.clip(rng.normal((150, 140, 120), 25, size=(64, 64, 3)), 0, 255).astype(np.uint8)
    mask = np.full((64, 64), 255, np.uint8)

    result = transfer_lab_statistics(source, target, mask)

    before_mean, before_std = _lab_stats(source, mask)
    after_mean, after_std = _lab_stats(result, mask)
    target_mean, target_std = _lab_stats(target, mask)
    assert np.all(np.abs(after_mean - target_mean) < np.abs(before_mean - target_mean) / 4 + 1.5)
    assert np.all(np.abs(after_std - target_std) < np.abs(before_std - target_std) / 2 + 1.5)


def test_colour_transfer_measures_only_inside_the_mask():
    source = np.full((20, 20, 3), 100, np.uint8)
    target = np.full((20, 20, 3), 100, np.uint8)
    target[:, 10:] = (20, 200, 20)  # outside the mask: must not pull the colour
    mask = np.zeros((20, 20), np.uint8)
    mask[:, :10] = 255

    result = transfer_lab_statistics(source, target, mask)

    assert np.abs(result.astype(int) - 100).max() <= 2


def test_warp_with_identical_landmarks_reproduces_the_source():
    rng = np.random.default_rng(5)
    source = cv2.GaussianBlur(rng.integers(0, 256, (80, 80, 3), dtype=np.uint8), (5, 5), 0)
    points = np.array([(10, 10), (70, 10), (70, 70), (10, 70), (40, 35), (30, 55)], np.float32)
    triangles = np.array(
        [(0, 1, 4), (1, 2, 4), (2, 5, 4), (2, 3, 5), (3, 0, 5), (0, 4, 5)], np.int32
    )  # the square fanned around the two inner points
    roi = Box(5, 5, 75, 75)

    warped, covered = warp_face_to_landmarks(source, points, points, triangles, roi)

    inside = cv2.erode(covered, np.ones((3, 3), np.uint8)) > 0
    assert inside.sum() > 2500
    expected = source[roi.top : roi.bottom, roi.left : roi.right]
    assert np.abs(warped[inside].astype(int) - expected[inside]).max() <= 1


def test_warp_follows_a_translation():
    source = np.zeros((100, 100, 3), np.uint8)
    source[40:60, 40:60] = 255
    src_points = np.array([(20, 20), (80, 20), (80, 80), (20, 80)], np.float32)
    dst_points = src_points + np.float32([10, 5])
    triangles = np.array([(0, 1, 2), (0, 2, 3)], np.int32)
    roi = Box(0, 0, 100, 100)

    warped, _ = warp_face_to_landmarks(source, src_points, dst_points, triangles, roi)

    assert warped[45:65, 50:70].min() == 255
    assert warped[40:45, 40:50].max() == 0


@pytest.mark.parametrize(("antialias_above", "max_spread"), [(0.0, None), (1.2, 40.0)])
def test_warp_onto_a_smaller_face_averages_the_source_when_told(antialias_above, max_spread):
    # one-pixel lines every 5 px (a strand of hair, a crease), shrunk 6.25 times: picked
    # pixel by pixel they come out as stray dots; averaged over 6.25 px, each output pixel
    # holds one or two lines' share (a box filter's spread of 32 levels at most)
    source = np.full((400, 400, 3), 200, np.uint8)
    source[:, ::5] = 0
    src_points = np.array([(50, 50), (350, 50), (350, 350), (50, 350)], np.float32)
    dst_points = src_points / 6.25
    triangles = np.array([(0, 1, 2), (0, 2, 3)], np.int32)
    roi = Box(0, 0, 64, 64)

    warped, covered = warp_face_to_landmarks(
        source, src_points, dst_points, triangles, roi, antialias_above=antialias_above
    )

    inside = cv2.erode(covered, np.ones((5, 5), np.uint8)) > 0
    grey = warped[inside][:, 0].astype(float)
    spread = float(grey.max() - grey.min())
    if max_spread is None:
        assert spread > 100  # aliased: some samples land on a line, most do not
    else:
        assert spread < max_spread
        assert abs(float(grey.mean()) - 160.0) < 4  # 4 of 5 columns at 200, 1 at 0


def test_blend_mask_fades_to_zero_at_the_edge_and_cuts_the_mouth():
    covered = np.full((100, 100), 255, np.uint8)
    hull = np.array([(10, 10), (90, 10), (90, 90), (10, 90)], np.float32)
    mouth = np.array([(40, 60), (60, 60), (60, 70), (40, 70)], np.float32)

    weights = face_blend_mask(covered, hull, mouth, feather=8)

    assert weights[50, 50] == 255
    assert weights[65, 50] == 0  # inner mouth keeps the target
    assert weights[5, 50] == 0 and weights[50, 95] == 0  # outside the hull
    assert 0 < weights[12, 50] < 255  # inside the feather band


def test_alpha_blend_leaves_zero_weight_pixels_untouched():
    rng = np.random.default_rng(2)
    target = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
    face = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
    weights = np.zeros((30, 30), np.uint8)
    weights[10:20, 10:20] = 255
    weights[9, 10:20] = 100

    blended = alpha_blend_roi(target, face, weights)

    outside = weights == 0
    assert np.array_equal(blended[outside], target[outside])
    assert np.array_equal(blended[10:20, 10:20], face[10:20, 10:20])


def test_paste_roi_returns_a_new_frame():
    frame = np.zeros((10, 10, 3), np.uint8)
    patch = np.full((2, 3, 3), 9, np.uint8)

    result = paste_roi(frame, patch, Box(4, 5, 7, 7))

    assert frame.max() == 0
    assert result[5:7, 4:7].min() == 9
    assert result.sum() == 9 * 2 * 3 * 3


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_threaded_png_round_trips(threads):
    rng = np.random.default_rng(threads)
    frame = rng.integers(0, 256, (31, 17, 3), dtype=np.uint8)

    data = encode_png(frame, threads=threads)

    assert np.array_equal(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), frame)


def test_large_png_splits_its_data_over_idat_chunks_of_at_most_1_mib():
    # noise barely compresses: ~3 MB of pixel data gives several chunks
    frame = np.random.default_rng(0).integers(0, 256, (1000, 1000, 3), dtype=np.uint8)

    data = encode_png(frame)

    sizes, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        if data[position + 4 : position + 8] == b"IDAT":
            sizes.append(length)
        position += 12 + length
    assert len(sizes) >= 3 and max(sizes) <= 1 << 20
    assert np.array_equal(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), frame)


def test_hog_boxes_alone_find_the_face_and_more_with_thorough():
    from tests.support import images

    frame = images.grace_hopper_bgr()
    [box] = detect_faces(frame, max_side=512)
    assert 150 < box.width < 260 and box.left < 256 < box.right
    # a 40 px face (half of HOG's window) needs the upsampled pass
    small = cv2.resize(frame, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    assert len(detect_faces(small, max_side=512, thorough=True)) == 1


@pytest.mark.parametrize("scale", [1.0, 0.975, 0.5, 0.3])
def test_reduced_gray_matches_an_area_resize(scale):
    frame = np.random.default_rng(3).integers(0, 256, (201, 300, 3), dtype=np.uint8)
    frame = cv2.GaussianBlur(frame, (9, 9), 0)  # photo-like: no pixel-level noise
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    expected = cv2.resize(
        gray, (round(300 * scale), round(201 * scale)), interpolation=cv2.INTER_AREA
    )

    reduced = reduced_gray(frame, scale)

    assert reduced.shape == expected.shape
    assert np.abs(reduced.astype(int) - expected).mean() < 2
