"""What real photos contain: small, rolled and turned faces, 12 MP images, gray and RGBA
files, EXIF orientation. Each case runs the real engine on a variant of a sample photo."""

from __future__ import annotations

import time
import tracemalloc

import cv2
import numpy as np
import pytest

from faceport.engine import decode_image, detect_faces_in_image, swap_face
from tests.support import images, variants
from tests.support.identity import identity_distance


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels that differ."""
    ys, xs = np.nonzero(np.any(before != after, axis=2))
    assert len(xs) > 0, "nothing changed"
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def eye_line_degrees(image: bytes | np.ndarray) -> float:
    """The angle of the line from the image-left eye to the image-right eye of face 0."""
    data = image if isinstance(image, bytes) else variants.encode_png(image)
    left, right = detect_faces_in_image(data)[0].landmarks5[:2]  # type: ignore[index]
    return float(np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0])))


@pytest.mark.parametrize("face_width", [40, 60])
def test_a_small_face_in_a_1_mp_photo_is_found_and_swapped(astronaut, face_width):
    target = variants.small_face(
        images.grace_hopper_bgr(), face_width, variants.HOPPER_FACE_FRACTION, (1200, 900)
    )
    data = variants.encode_png(target)

    faces = detect_faces_in_image(data)
    assert len(faces) == 1
    x, y, width, height = faces[0].box
    assert 0.6 * face_width < width < 1.6 * face_width

    result = decode_image(swap_face(astronaut, data))
    left, top, right, bottom = changed_box(target, result)
    # only the face changed: the changed pixels lie around the detected box
    assert x - width <= left and right <= x + 2 * width
    assert y - height <= top and bottom <= y + 2 * height


@pytest.mark.parametrize("degrees", [-30, 30])
def test_a_rolled_head_is_swapped_and_keeps_its_roll(astronaut, degrees):
    target = variants.rolled(images.grace_hopper_bgr(), degrees)

    result = decode_image(swap_face(astronaut, variants.encode_png(target)))

    # the eye line of the new face lies where the target's did (cv2 angles are
    # counter-clockwise, image y grows downwards, so the eye line turns by -degrees)
    assert eye_line_degrees(result) == pytest.approx(eye_line_degrees(target), abs=4)
    assert eye_line_degrees(target) == pytest.approx(-degrees, abs=6)
    # turned back upright, the face is the source's person
    upright = variants.rolled(result, -degrees)
    original = variants.rolled(target, -degrees)
    assert identity_distance(upright, astronaut) < identity_distance(upright, original)


@pytest.mark.parametrize("amount", [-0.4, 0.4])
def test_a_turned_head_is_swapped(astronaut, amount):
    # a perspective squeeze stands in for a head turned ~30 degrees (see variants.turned)
    target = variants.turned(images.grace_hopper_bgr(), amount)

    result = decode_image(swap_face(astronaut, variants.encode_png(target)))

    assert identity_distance(result, astronaut) < identity_distance(result, target)


def test_a_12_mp_target_with_six_faces_fits_in_time_and_memory(astronaut):
    target = variants.six_faces_12mp()
    data = variants.encode_jpeg(target, 90)
    swap_face(astronaut, images.grace_hopper_jpeg())  # models loaded outside the measure

    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = swap_face(astronaut, data, target_index="all", output_format="jpg")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start

    frame_bytes = target.nbytes  # 36 MB
    # numpy's buffers (traced) stay within a few frames: no per-face full-frame copies
    assert peak < 3 * frame_bytes, f"peak {peak / 1e6:.0f} MB"
    assert elapsed < 10, f"{elapsed:.1f} s"
    swapped = decode_image(result)
    assert swapped.shape == target.shape
    assert len(detect_faces_in_image(data)) == 6


def test_gray_and_rgba_inputs(astronaut):
    gray_target = cv2.cvtColor(images.grace_hopper_bgr(), cv2.COLOR_BGR2GRAY)
    rgba_source = cv2.cvtColor(images.astronaut_bgr(), cv2.COLOR_BGR2BGRA)
    rgba_source[:, :, 3] = 200

    result = decode_image(
        swap_face(variants.encode_png(rgba_source), variants.encode_png(gray_target))
    )

    assert result.shape == (*gray_target.shape, 3)
    changed_box(cv2.cvtColor(gray_target, cv2.COLOR_GRAY2BGR), result)
    # outside the face the gray target stays gray
    assert np.array_equal(result[:50, :, 0], result[:50, :, 2])


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_gives_an_upright_result(astronaut, orientation):
    upright = images.grace_hopper_bgr()
    tagged = variants.with_exif_orientation(upright, orientation)
    assert decode_image(tagged).shape == upright.shape  # stored turned, decoded upright

    result = decode_image(swap_face(astronaut, tagged))

    assert result.shape == upright.shape
    left, top, right, bottom = changed_box(decode_image(tagged), result)
    x, y, width, height = detect_faces_in_image(images.grace_hopper_jpeg())[0].box
    # the face changed where it is in the upright photo
    assert abs((left + right) / 2 - (x + width / 2)) < width / 4
    assert abs((top + bottom) / 2 - (y + height / 2)) < height / 2
