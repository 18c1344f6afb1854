"""The neural backend on stand-in models with the published tensor names and shapes.

The swapper stand-ins make the result predictable: the identity swapper must give the
target back (within resampling), the inverting one the target's inverse inside the mask;
both must leave everything away from the selected face exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from faceport.engine import (
    TRAINED_ALGORITHMIC_MEDIA,
    decode_image,
    read_digital_source_type,
    swap_face,
)
from faceport.engine._find import find_faces
from faceport.engine._landmarks import five_point_landmarks
from faceport.engine._swap import DEFAULT_SETTINGS, analyse_source, find_options
from faceport.engine.onnx import OnnxBackend, load_onnx_backend
from faceport.engine.onnx._align import aligned_crop, similarity_matrix, template_points
from faceport.errors import EnhanceNotAvailable
from tests.support import images
from tests.support.onnx_models import model_dir

# two_faces_jpeg: hopper (face 0, the larger) on the left, the astronaut (face 1) right


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> dict[str, OnnxBackend]:
    root = tmp_path_factory.mktemp("models")
    return {
        "identity": load_onnx_backend(model_dir(root / "identity")),
        "invert": load_onnx_backend(model_dir(root / "invert", swapper="invert")),
        "restore": load_onnx_backend(model_dir(root / "restore", restorer=True, buffalo=True)),
    }


@pytest.fixture(scope="module")
def group() -> bytes:
    return images.two_faces_jpeg()


@pytest.fixture(scope="module")
def group_frame(group: bytes) -> np.ndarray:
    return decode_image(group)


@pytest.fixture(scope="module")
def group_faces(group_frame: np.ndarray) -> list:
    return find_faces(group_frame, find_options(DEFAULT_SETTINGS), thorough=True)


def _swap(backend: OnnxBackend, target: bytes, *, enhance: bool = False, **selection) -> bytes:
    painter = backend.painter(enhance=enhance)
    return swap_face(images.astronaut_jpeg(), target, painter=painter, **selection)


def _grown(box, factor: float, shape) -> tuple[slice, slice]:
    """Rows and columns of `box` grown by `factor` of its size each way, in the frame."""
    dx, dy = round(box.width * factor), round(box.height * factor)
    top, left = max(0, box.top - dy), max(0, box.left - dx)
    return slice(top, min(shape[0], box.bottom + dy)), slice(left, min(shape[1], box.right + dx))


def _inner(face) -> tuple[slice, slice]:
    """Between the eyes and the mouth: eye centres' x span, eye level to the mouth corners."""
    five = five_point_landmarks(face.landmarks)
    left, right = int(five[0, 0]), int(five[1, 0])
    top, bottom = int(five[:2, 1].mean()), int(five[3:, 1].mean())
    return slice(top, bottom), slice(left, right)


def _outside(mask_shape, rows: slice, cols: slice) -> np.ndarray:
    outside = np.ones(mask_shape[:2], bool)
    outside[rows, cols] = False
    return outside


def test_alignment_puts_the_eyes_on_the_template() -> None:
    # a face-like drawing whose 5 points are the template turned 25 degrees, scaled, moved
    template = template_points(112)
    turn = cv2.getRotationMatrix2D((56, 56), 25, 2.3)
    turn[:, 2] += (140, 90)
    points = cv2.transform(template.reshape(-1, 1, 2), turn).reshape(-1, 2)
    canvas = np.zeros((480, 560, 3), np.uint8)
    for x, y in points[:2]:
        cv2.circle(canvas, (round(x), round(y)), 6, (255, 255, 255), -1, cv2.LINE_AA)

    crop, _ = aligned_crop(canvas, points.astype(np.float32), 112)

    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float64)
    for eye in template[:2]:
        x0, y0 = int(eye[0]) - 6, int(eye[1]) - 6
        patch = grey[y0 : y0 + 13, x0 : x0 + 13]
        ys, xs = np.mgrid[y0 : y0 + 13, x0 : x0 + 13]
        centre = np.array([(xs * patch).sum(), (ys * patch).sum()]) / patch.sum()
        assert np.linalg.norm(centre - eye) < 1.0, (centre, eye)


def test_alignment_of_a_real_face_lands_its_eyes_on_the_template(group_faces) -> None:
    five = five_point_landmarks(group_faces[0].landmarks)
    matrix = similarity_matrix(five, template_points(112))
    eyes = cv2.transform(five[:2].reshape(-1, 1, 2).astype(np.float64), matrix).reshape(-1, 2)
    # a least-squares fit of 5 real points: the eyes within a pixel or two of the template
    assert np.abs(eyes - template_points(112)[:2]).max() < 2.5


def test_identity_swapper_gives_the_target_back(backends, group, group_frame, group_faces):
    result = decode_image(_swap(backends["identity"], group, target_index=1))

    diff = np.abs(result.astype(int) - group_frame).max(axis=2)
    rows, cols = _grown(group_faces[1].extent, 0.6, diff.shape)
    assert diff[rows, cols].any()  # it was pasted back
    assert diff[rows, cols].mean() < 3  # resampling there and back, nothing else
    assert not diff[_outside(diff.shape, rows, cols)].any()


def test_inverting_swapper_inverts_only_the_selected_face(
    backends, group, group_frame, group_faces
):
    result = decode_image(_swap(backends["invert"], group, target_index=0))

    inner = _inner(group_faces[0])
    inverted = 255 - group_frame[inner].astype(int)
    assert np.abs(result[inner].astype(int) - inverted).mean() < 12
    rows, cols = _grown(group_faces[0].extent, 0.6, result.shape)
    unchanged = _outside(result.shape, rows, cols)
    assert np.array_equal(result[unchanged], group_frame[unchanged])
    other = _grown(group_faces[1].extent, 0.0, result.shape)
    assert np.array_equal(result[other], group_frame[other])


def test_all_swaps_every_face_and_a_face_map_picks_them(backends, group, group_frame, group_faces):
    everyone = decode_image(_swap(backends["invert"], group, target_index="all"))
    mapped = decode_image(_swap(backends["invert"], group, face_map=[(0, 1)]))

    for face in group_faces:
        inner = _inner(face)
        assert np.abs(everyone[inner].astype(int) - (255 - group_frame[inner])).mean() < 15
    first = _grown(group_faces[0].extent, 0.0, mapped.shape)
    assert np.array_equal(mapped[first], group_frame[first])
    inner = _inner(group_faces[1])
    assert np.abs(mapped[inner].astype(int) - (255 - group_frame[inner])).mean() < 15


def test_result_is_labelled_synthetic_with_the_neural_stages_timed(backends, group):
    timings: dict[str, float] = {}
    painter = backends["identity"].painter(enhance=False)
    result = swap_face(images.astronaut_jpeg(), group, painter=painter, timings=timings)

    assert read_digital_source_type(result) == TRAINED_ALGORITHMIC_MEDIA
    assert {"recognize", "align", "swap", "paste"} <= set(timings)
    assert not {"warp", "colour"} & set(timings)  # the classic face stages did not run


def test_enhance_runs_the_restorer_on_the_swapped_face(backends, group, group_frame, group_faces):
    plain = decode_image(_swap(backends["restore"], group, target_index=0))
    enhanced = decode_image(_swap(backends["restore"], group, target_index=0, enhance=True))

    inner = _inner(group_faces[0])
    # identity swapper (hopper's face passes through its 128 px crop), inverting
    # restorer: enhance turns the swapped face's inside over
    assert np.abs(plain[inner].astype(int) - group_frame[inner]).mean() < 10
    assert np.abs(enhanced[inner].astype(int) - (255 - plain[inner])).mean() < 6
    rows, cols = _grown(group_faces[0].extent, 0.6, enhanced.shape)
    unchanged = _outside(enhanced.shape, rows, cols)
    assert np.array_equal(enhanced[unchanged], group_frame[unchanged])


def test_enhance_without_a_restorer_is_refused(backends):
    with pytest.raises(EnhanceNotAvailable):
        backends["identity"].painter(enhance=True)
    with pytest.raises(EnhanceNotAvailable):
        backends["identity"].renderer_for(enhance=True)


def test_the_latent_depends_on_the_source_face(backends, group_frame, group_faces):
    backend = backends["identity"]
    hopper = backend.source_latent(group_frame, group_faces[0].landmarks)
    astronaut = backend.source_latent(group_frame, group_faces[1].landmarks)

    assert hopper.shape == astronaut.shape == (1, 512)
    assert hopper.dtype == np.float32
    assert np.linalg.norm(hopper) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(hopper - astronaut).max() > 1e-3
    # the embedding map is used: without it the latent would be the embedding's direction
    crop, _ = aligned_crop(group_frame, five_point_landmarks(group_faces[0].landmarks), 112)
    recognizer = backend.models.recognizer
    blob = cv2.dnn.blobFromImage(crop, 1 / 127.5, (112, 112), (127.5,) * 3, swapRB=True)
    embedding = recognizer.run({recognizer.inputs[0]: blob})
    expected = (embedding / np.linalg.norm(embedding)) @ backend.models.emap
    np.testing.assert_allclose(hopper, expected / np.linalg.norm(expected), rtol=1e-4, atol=1e-6)


def test_describe_names_the_provider_and_the_files(backends):
    info = backends["restore"].describe()

    assert info["engine"] == "onnx"
    assert info["provider"] == "CPUExecutionProvider"
    assert info["enhance"] is True
    assert info["models"]["recognizer"]["file"] == str(Path("buffalo_l") / "w600k_r50.onnx")
    assert info["models"]["swapper"]["inputs"] == {"target": [1, 3, 128, 128], "source": [1, 512]}


def test_a_cached_source_keeps_its_latent(backends):
    backend = backends["invert"]
    source = analyse_source(images.astronaut_jpeg())
    first = backend.latent_of(source, 0)

    assert backend.latent_of(analyse_source(images.astronaut_jpeg()), 0) is first
    other = analyse_source(images.grace_hopper_jpeg())
    assert np.abs(backend.latent_of(other, 0) - first).max() > 1e-3
