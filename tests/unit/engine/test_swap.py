from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from faceport.engine import (
    TRAINED_ALGORITHMIC_MEDIA,
    decode_image,
    read_digital_source_type,
    swap_face,
    swap_face_frames,
)
from faceport.errors import NoFaceInSource, NoFaceInTarget, TargetIndexOutOfRange, UnreadableImage
from tests.support import images
from tests.support.identity import identity_distance

STAGES = {"decode", "detect", "landmarks", "warp", "colour", "blend", "encode"}


@pytest.fixture(scope="module")
def astronaut_onto_hopper(astronaut, grace_hopper) -> tuple[bytes, dict[str, float]]:
    timings: dict[str, float] = {}
    return swap_face(astronaut, grace_hopper, timings=timings), timings


@pytest.fixture(scope="module")
def hopper_onto_astronaut(astronaut, grace_hopper) -> bytes:
    return swap_face(grace_hopper, astronaut)


def test_result_is_a_labelled_png_of_the_target_size(astronaut_onto_hopper, grace_hopper):
    result, _ = astronaut_onto_hopper

    assert result.startswith(b"\x89PNG")
    assert decode_image(result).shape == decode_image(grace_hopper).shape
    assert read_digital_source_type(result) == TRAINED_ALGORITHMIC_MEDIA


def test_timings_cover_every_stage(astronaut_onto_hopper):
    _, timings = astronaut_onto_hopper

    assert set(timings) == STAGES
    assert all(seconds >= 0 for seconds in timings.values())


def test_pixels_away_from_the_face_are_unchanged(astronaut_onto_hopper, grace_hopper):
    result, _ = astronaut_onto_hopper
    before = decode_image(grace_hopper)
    after = decode_image(result)

    changed = np.any(before != after, axis=2)
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 5000  # the face did change
    # every changed pixel lies within the face: around the centre, well inside the frame
    height, width = before.shape[:2]
    assert xs.min() > width * 0.2 and xs.max() < width * 0.8
    assert ys.min() > height * 0.15 and ys.max() < height * 0.75
    # and the changed region is one blob, not scattered pixels: besides the face only
    # small ones (Grace Hopper wears glasses: the filled-in arms at the temples, where the
    # fill also takes the gaps in her hair that run along the eye line, and skin the skin
    # mask cut off from the face)
    count, _, stats, _ = cv2.connectedComponentsWithStats(changed.astype(np.uint8))
    areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1]
    print(f"changed: {count - 1} blobs, the face's {areas[0]}, the next {areas[1:4]}")
    assert areas[0] >= 0.8 * changed.sum()
    assert count - 2 <= 30 and (areas[1:] <= 0.1 * areas[0]).all()


@pytest.mark.parametrize("output_format", ["jpg", "webp"])
def test_other_formats_are_labelled(astronaut, grace_hopper, output_format):
    result = swap_face(astronaut, grace_hopper, output_format=output_format)

    assert decode_image(result).shape == decode_image(grace_hopper).shape
    assert read_digital_source_type(result) == TRAINED_ALGORITHMIC_MEDIA


def _report(name: str, result: bytes, source: bytes, target: bytes) -> tuple[float, float, float]:
    to_source = identity_distance(result, source)
    to_target = identity_distance(result, target)
    between = identity_distance(source, target)
    print(f"{name}: result-source {to_source:.3f} result-target {to_target:.3f} "
          f"source-target {between:.3f}")  # fmt: skip
    return to_source, to_target, between


def test_astronaut_onto_hopper_looks_like_the_astronaut(
    astronaut_onto_hopper, astronaut, grace_hopper
):
    result, _ = astronaut_onto_hopper

    to_source, to_target, between = _report("astronaut->hopper", result, astronaut, grace_hopper)

    assert between > 0.6  # the judge tells the two apart to begin with
    assert to_source < to_target
    assert to_source < 0.5


def test_hopper_onto_astronaut_looks_like_hopper(hopper_onto_astronaut, astronaut, grace_hopper):
    to_source, to_target, _ = _report(
        "hopper->astronaut", hopper_onto_astronaut, grace_hopper, astronaut
    )

    assert to_source < to_target
    assert to_source < 0.5


def test_target_index_picks_faces_largest_first(astronaut):
    group = images.two_faces_jpeg()
    before = decode_image(group)
    split = images.grace_hopper_bgr().shape[1]  # hopper (larger) left, astronaut right

    first = decode_image(swap_face(astronaut, group, target_index=0))
    second = decode_image(swap_face(astronaut, group, target_index=1))

    first_changed = np.any(first != before, axis=2)
    second_changed = np.any(second != before, axis=2)
    assert first_changed[:, :split].sum() > 0 and first_changed[:, split:].sum() == 0
    assert second_changed[:, split:].sum() > 0 and second_changed[:, :split].sum() == 0


def test_no_face_in_source(no_face, grace_hopper):
    with pytest.raises(NoFaceInSource):
        swap_face(no_face, grace_hopper)


def test_no_face_in_target(astronaut, no_face):
    with pytest.raises(NoFaceInTarget):
        swap_face(astronaut, no_face)


@pytest.mark.parametrize("index", [1, 5, -1])
def test_target_index_out_of_range_says_how_many_faces(astronaut, grace_hopper, index):
    with pytest.raises(TargetIndexOutOfRange) as caught:
        swap_face(astronaut, grace_hopper, target_index=index)

    assert "1 face" in caught.value.message
    assert caught.value.details["faces_found"] == 1


@pytest.mark.parametrize("which", ["source", "target"])
def test_unreadable_bytes(astronaut, which):
    garbage = b"GIF89a not really"
    source, target = (garbage, astronaut) if which == "source" else (astronaut, garbage)

    with pytest.raises(UnreadableImage):
        swap_face(source, target)


def test_two_threads_at_once_give_the_same_result(astronaut, grace_hopper, astronaut_onto_hopper):
    expected, _ = astronaut_onto_hopper
    results: list[bytes] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(swap_face(astronaut, grace_hopper))
        except BaseException as error:  # collected and re-raised in the test thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert len(results) == 2
    for result in results:
        assert np.array_equal(decode_image(result), decode_image(expected))


def test_frame_equals_target_outside_the_blend_weights(astronaut, grace_hopper):
    source, target = decode_image(astronaut), decode_image(grace_hopper)

    result = swap_face_frames(source, target)

    roi = result.roi
    outside = np.ones(target.shape[:2], bool)
    outside[roi.top : roi.bottom, roi.left : roi.right] = result.weights == 0
    assert outside.sum() < outside.size  # something was blended
    assert np.array_equal(result.frame[outside], target[outside])
    assert not np.array_equal(result.frame[~outside], target[~outside])
    assert np.array_equal(decode_image(grace_hopper), target)  # input left alone
