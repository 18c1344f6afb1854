from __future__ import annotations

import itertools
import json
import threading

import numpy as np
import pytest

from faceport.engine import (
    TRAINED_ALGORITHMIC_MEDIA,
    DetectedFace,
    clear_source_cache,
    decode_image,
    detect_faces_in_image,
    fuse_faces,
    read_digital_source_type,
    swap_face,
)
from faceport.engine._cache import LruCache
from faceport.engine._swap import _source_cache
from faceport.errors import NoFaceInSource, NoFaceInTarget, UnreadableImage
from tests.support import images
from tests.support.identity import identity_distance

SIMILARITIES = (0.0, 0.25, 0.5, 0.75, 1.0)

# --- detection --------------------------------------------------------------------------


def test_detects_both_faces_largest_first_with_five_points():
    faces = detect_faces_in_image(images.two_faces_jpeg())

    assert [face.index for face in faces] == [0, 1]
    hopper, astronaut = faces
    assert hopper.box[2] * hopper.box[3] > astronaut.box[2] * astronaut.box[3]
    assert hopper.box[0] < images.grace_hopper_bgr().shape[1] <= astronaut.box[0]
    for face in faces:
        x, y, width, height = face.box
        assert all(isinstance(value, int) for value in face.box)
        assert 0.5 < face.score <= 1  # a probability, and these are clear faces
        assert face.landmarks5 is not None and len(face.landmarks5) == 5
        left_eye, right_eye, nose, left_mouth, right_mouth = face.landmarks5
        # image-left before image-right, eyes above the nose above the mouth
        assert left_eye[0] < right_eye[0] and left_mouth[0] < right_mouth[0]
        assert max(left_eye[1], right_eye[1]) < nose[1] < min(left_mouth[1], right_mouth[1])
        # every point inside (a margin around) the box
        for px, py in face.landmarks5:
            assert x - width * 0.2 <= px <= x + width * 1.2
            assert y - height * 0.2 <= py <= y + height * 1.2


def test_to_dict_is_json_ready():
    face = detect_faces_in_image(images.astronaut_jpeg())[0]

    as_dict = json.loads(json.dumps(face.to_dict()))

    assert as_dict["index"] == 0
    assert list(as_dict["box"].values()) == list(face.box)
    assert as_dict["score"] == face.score
    assert len(as_dict["landmarks"]) == 5 and len(as_dict["landmarks"][0]) == 2


def test_to_dict_of_a_face_without_mesh():
    face = DetectedFace(index=0, box=(1, 2, 3, 4), score=0.5, landmarks5=None)

    box = {"x": 1, "y": 2, "width": 3, "height": 4}
    assert face.to_dict() == {"index": 0, "box": box, "score": 0.5, "landmarks": None}


def test_no_face_is_an_empty_list(no_face):
    assert detect_faces_in_image(no_face) == []


def test_detection_of_unreadable_bytes():
    with pytest.raises(UnreadableImage):
        detect_faces_in_image(b"not an image")


# --- fusion -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fusions(astronaut, grace_hopper) -> dict[float, bytes]:
    """The astronaut (donor) fused into Grace Hopper (template) at each similarity."""
    return {s: fuse_faces(astronaut, grace_hopper, similarity=s) for s in SIMILARITIES}


def test_similarity_0_is_the_template(fusions, grace_hopper):
    result = fusions[0.0]

    assert np.array_equal(decode_image(result), decode_image(grace_hopper))
    assert read_digital_source_type(result) == TRAINED_ALGORITHMIC_MEDIA


def test_identity_moves_to_the_donor_as_similarity_rises(fusions, astronaut, grace_hopper):
    donor = astronaut
    distances = [identity_distance(fusions[s], donor) for s in SIMILARITIES]
    print("fusion result-donor distances:", [f"{d:.3f}" for d in distances])

    for before, after in itertools.pairwise(distances):
        assert after <= before + 0.03
    assert distances[-1] < distances[0] - 0.2
    assert distances[-1] < 0.5  # at 1 the donor's face is there, as in a swap


def test_fusion_changes_only_the_face(fusions, grace_hopper):
    before = decode_image(grace_hopper)
    changed = np.any(decode_image(fusions[0.5]) != before, axis=2)

    ys, xs = np.nonzero(changed)
    height, width = before.shape[:2]
    assert changed.sum() > 5000
    assert xs.min() > width * 0.2 and xs.max() < width * 0.8
    assert ys.min() > height * 0.15 and ys.max() < height * 0.75


def test_fusion_reports_its_stages(astronaut, grace_hopper):
    timings: dict[str, float] = {}

    fuse_faces(astronaut, grace_hopper, similarity=0.5, output_format="jpg", timings=timings)

    assert {"decode", "detect", "landmarks", "warp", "colour", "blend", "encode"} <= set(timings)


def test_fusion_without_a_donor_face(no_face, grace_hopper):
    with pytest.raises(NoFaceInSource):
        fuse_faces(no_face, grace_hopper, similarity=0.5)


def test_fusion_without_a_template_face(astronaut, no_face):
    with pytest.raises(NoFaceInTarget):
        fuse_faces(astronaut, no_face, similarity=0.5)


def test_fusion_of_unreadable_bytes(astronaut):
    with pytest.raises(UnreadableImage):
        fuse_faces(astronaut, b"garbage", similarity=0.5)


# --- the source cache -------------------------------------------------------------------


def test_lru_cache_drops_the_least_recently_used():
    cache: LruCache[int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)

    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    assert len(cache) == 2


def test_lru_cache_is_safe_across_threads():
    cache: LruCache[int] = LruCache(8)

    def work(offset: int) -> None:
        for i in range(2000):
            cache.put((offset, i % 20), i)
            cache.get((offset, (i + 3) % 20))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(cache) == 8


def test_a_repeated_source_is_analysed_once(astronaut, grace_hopper):
    clear_source_cache()
    cold: dict[str, float] = {}
    warm: dict[str, float] = {}

    first = swap_face(astronaut, grace_hopper, timings=cold)
    second = swap_face(astronaut, grace_hopper, timings=warm)

    assert first == second
    assert (_source_cache.hits, _source_cache.misses) == (1, 1)
    # the same bytes re-encoded are a different key, and still give the same face
    swap_face(images.astronaut_png(), grace_hopper)
    assert _source_cache.misses == 2


def test_a_cached_source_frame_cannot_be_changed(astronaut, grace_hopper):
    clear_source_cache()
    swap_face(astronaut, grace_hopper)

    (entry,) = _source_cache._entries.values()
    with pytest.raises(ValueError):
        entry.frame[0, 0] = 0


def test_face_probability_is_a_monotone_map_into_0_1():
    from faceport.engine._faces import face_probability

    margins = [-1000.0, -3.0, 0.0, 0.1, 1.0, 2.0, 5.0]
    probabilities = [face_probability(margin) for margin in margins]
    assert all(0 <= p <= 1 for p in probabilities)
    assert probabilities == sorted(probabilities)
    assert face_probability(0.0) == 0.5
