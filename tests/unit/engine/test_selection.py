from __future__ import annotations

import numpy as np
import pytest

from faceport.engine import decode_image, detect_faces_in_image, swap_face, swap_faces_frames
from faceport.engine._selection import requested_pairs, resolve_pairs
from faceport.errors import (
    InvalidFaceSelection,
    NoFaceInTarget,
    SourceIndexOutOfRange,
    TargetIndexOutOfRange,
)
from tests.support import images
from tests.support.identity import identity_distance

# two_faces_jpeg: hopper (face 0, the larger) on the left, the astronaut (face 1) right
SPLIT = images.grace_hopper_bgr().shape[1]


@pytest.fixture(scope="module")
def group() -> bytes:
    return images.two_faces_jpeg()


@pytest.fixture(scope="module")
def group_frame(group) -> np.ndarray:
    return decode_image(group)


def _changed(result: bytes, before: np.ndarray) -> np.ndarray:
    return np.any(decode_image(result) != before, axis=2)


# --- the selection on its own ----------------------------------------------------------


@pytest.mark.parametrize(
    ("target_index", "face_map", "expected"),
    [
        (0, None, [(0, 0)]),
        (3, None, [(0, 3)]),
        ([2, 0], None, [(0, 2), (0, 0)]),
        ("all", None, None),
        (7, [(1, 0), (0, 1)], [(1, 0), (0, 1)]),  # a face map wins over target_index
    ],
)
def test_requested_pairs(target_index, face_map, expected):
    assert requested_pairs(target_index, face_map) == expected


@pytest.mark.parametrize(
    ("target_index", "face_map"),
    [
        ([1, 1], None),
        (0, [(0, 1), (1, 1)]),
        ([], None),
        (0, []),
        ("some", None),
        (True, None),
        (0, [(0, 1, 2)]),
    ],
)
def test_invalid_selections(target_index, face_map):
    with pytest.raises(InvalidFaceSelection) as caught:
        requested_pairs(target_index, face_map)

    assert caught.value.code == "invalid_face_selection"


def test_all_resolves_to_every_target_face_with_the_largest_source_face():
    assert resolve_pairs(None, 3) == [(0, 0), (0, 1), (0, 2)]


def test_resolve_rejects_a_target_index_beyond_the_faces_found():
    with pytest.raises(TargetIndexOutOfRange) as caught:
        resolve_pairs([(0, 0), (0, 2)], 2)

    assert "2 faces" in caught.value.message
    assert caught.value.details == {"faces_found": 2, "target_index": 2}


# --- selection in the swap --------------------------------------------------------------


def test_a_list_swaps_only_the_listed_faces(astronaut, group, group_frame):
    changed = _changed(swap_face(astronaut, group, target_index=[1]), group_frame)

    assert changed[:, SPLIT:].sum() > 0
    assert changed[:, :SPLIT].sum() == 0


@pytest.mark.parametrize("selection", [[0, 1], [1, 0], "all"])
def test_several_faces_all_change(grace_hopper, group, group_frame, selection):
    changed = _changed(swap_face(grace_hopper, group, target_index=selection), group_frame)

    assert changed[:, :SPLIT].sum() > 1000
    assert changed[:, SPLIT:].sum() > 300


def test_frame_equals_target_outside_the_selected_regions(astronaut, group_frame):
    source = decode_image(astronaut)

    for selection in ([1], [0], "all"):
        result = swap_faces_frames(source, group_frame, target_index=selection)

        blended = np.zeros(group_frame.shape[:2], bool)
        for region in result.regions:
            roi = region.roi
            blended[roi.top : roi.bottom, roi.left : roi.right] |= region.weights > 0
        assert blended.any()
        assert np.array_equal(result.frame[~blended], group_frame[~blended])
        expected = [0, 1] if selection == "all" else selection
        assert [region.target_index for region in result.regions] == expected


def test_face_map_swaps_the_two_faces_crosswise(group):
    result = swap_face(group, group, face_map=[(0, 1), (1, 0)])

    hopper, astronaut = images.grace_hopper_bgr(), images.astronaut_bgr()
    frame = decode_image(result)
    left, right = frame[:, :SPLIT], frame[: astronaut.shape[0], SPLIT:]
    # each side now carries the other person's face
    assert identity_distance(left, astronaut) < identity_distance(left, hopper)
    assert identity_distance(right, hopper) < identity_distance(right, astronaut)


def test_detect_index_i_is_the_face_target_index_i_changes(astronaut, group, group_frame):
    faces = detect_faces_in_image(group)

    assert len(faces) == 2
    for face in faces:
        changed = _changed(swap_face(astronaut, group, target_index=face.index), group_frame)
        ys, xs = np.nonzero(changed)
        x, y, width, height = face.box
        centre_x, centre_y = xs.mean(), ys.mean()
        assert x <= centre_x <= x + width and y <= centre_y <= y + height
        # and nothing changed at the other face
        for other in faces:
            if other.index != face.index:
                ox, oy, ow, oh = other.box
                assert not changed[oy : oy + oh, ox : ox + ow].any()


# --- failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("selection", [[0, 2], [5]])
def test_target_index_out_of_range_in_a_list(astronaut, group, selection):
    with pytest.raises(TargetIndexOutOfRange) as caught:
        swap_face(astronaut, group, target_index=selection)

    assert caught.value.code == "target_index_out_of_range"
    assert caught.value.details["faces_found"] == 2
    assert "2 faces" in caught.value.message


def test_target_index_out_of_range_in_a_face_map(astronaut, group):
    with pytest.raises(TargetIndexOutOfRange):
        swap_face(astronaut, group, face_map=[(0, 2)])


def test_source_index_out_of_range(astronaut, group):
    with pytest.raises(SourceIndexOutOfRange) as caught:
        swap_face(astronaut, group, face_map=[(1, 0)])

    assert caught.value.code == "source_index_out_of_range"
    assert caught.value.details["faces_found"] == 1
    assert "1 face" in caught.value.message


@pytest.mark.parametrize(("target_index", "face_map"), [([0, 0], None), (0, [(0, 0), (1, 0)])])
def test_the_same_target_face_twice(group, target_index, face_map):
    with pytest.raises(InvalidFaceSelection) as caught:
        swap_face(group, group, target_index=target_index, face_map=face_map)

    assert caught.value.code == "invalid_face_selection"


@pytest.mark.parametrize("selection", ["all", [0]])
def test_no_face_in_target_for_any_selection(astronaut, no_face, selection):
    with pytest.raises(NoFaceInTarget):
        swap_face(astronaut, no_face, target_index=selection)
