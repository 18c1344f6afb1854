"""Harder test images made from the sample photos: rolled, turned, small, cropped, grouped, large.

Each builder is a pure function of a BGR frame (or of the sample photos) so tests, the
quality run and the benchmark make exactly the same images.
"""

from __future__ import annotations

import functools
import io

import cv2
import numpy as np

from tests.support import images

BACKGROUND = (118, 124, 128)  # a neutral grey-blue, BGR


def rolled(frame: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate the whole photo by `degrees` (counter-clockwise) on a canvas that holds all of it."""
    height, width = frame.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_width = int(np.ceil(height * sin + width * cos))
    new_height = int(np.ceil(height * cos + width * sin))
    matrix[0, 2] += (new_width - width) / 2
    matrix[1, 2] += (new_height - height) / 2
    return cv2.warpAffine(
        frame, matrix, (new_width, new_height), flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT, borderValue=BACKGROUND,
    )  # fmt: skip


def turned(frame: np.ndarray, amount: float) -> np.ndarray:
    """A stand-in for a head turned sideways (yaw): a perspective squeeze of the photo.

    One vertical side of the image is shrunk by `amount` (0.3 = 30 % shorter) and the
    width is reduced by half that, so the face looks turned towards the shrunk side
    (positive: the image's right). It is a proxy: a real turn also hides one cheek and
    shows one ear, which no 2-D warp can.
    """
    height, width = frame.shape[:2]
    squeeze = abs(amount) * height / 2
    new_width = round(width * (1 - abs(amount) / 2))
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    if amount >= 0:
        moved = [[0, 0], [new_width, squeeze], [new_width, height - squeeze], [0, height]]
    else:
        moved = [[0, squeeze], [new_width, 0], [new_width, height], [0, height - squeeze]]
    matrix = cv2.getPerspectiveTransform(corners, np.float32(moved))
    return cv2.warpPerspective(
        frame, matrix, (new_width, height), flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip


def small_face(
    frame: np.ndarray, face_width: int, face_fraction: float, canvas: tuple[int, int]
) -> np.ndarray:
    """Shrink a photo whose face is `face_fraction` of its width so the face is `face_width`
    pixels across, and place it on a plain `canvas` (width, height) a little left of centre."""
    scale = face_width / (face_fraction * frame.shape[1])
    reduced = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    width, height = canvas
    out = np.empty((height, width, 3), np.uint8)
    out[:] = BACKGROUND
    top = (height - reduced.shape[0]) // 2
    left = width // 3 - reduced.shape[1] // 2
    out[top : top + reduced.shape[0], left : left + reduced.shape[1]] = reduced
    return out


def cropped(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The part of the photo inside (left, top, right, bottom); a face cut by the frame edge."""
    left, top, right, bottom = box
    return np.ascontiguousarray(frame[top:bottom, left:right])


def placed(
    faces: list[np.ndarray], positions: list[tuple[int, int]], canvas: tuple[int, int]
) -> np.ndarray:
    """Paste each photo with its top-left corner at its position on a plain `canvas`."""
    width, height = canvas
    out = np.empty((height, width, 3), np.uint8)
    out[:] = BACKGROUND
    for face, (left, top) in zip(faces, positions, strict=True):
        out[top : top + face.shape[0], left : left + face.shape[1]] = face
    return out


# Sample photos and where their face is, measured on the originals (faces ~ 0.35-0.45 of
# the width): used to size the variants.
ASTRONAUT_FACE_FRACTION = 0.17
HOPPER_FACE_FRACTION = 0.42


def group_of_three() -> np.ndarray:
    """Three faces of different sizes side by side, 1280x640: for "all" and face maps."""
    hopper = images.grace_hopper_bgr()
    astronaut = images.astronaut_bgr()
    flipped = cv2.resize(hopper[:, ::-1], None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    return placed([hopper, astronaut, flipped], [(0, 20), (520, 60), (1000, 100)], (1312, 640))


def astronaut_head() -> np.ndarray:
    """The astronaut's head and shoulders (226x230, face ~88 px, 0.39 of the width)."""
    return np.ascontiguousarray(images.astronaut_bgr()[20:250, 110:336])


@functools.cache
def six_faces_12mp() -> np.ndarray:
    """A 4000x3000 (12 MP) photo with six faces 290-630 px across, for the large-image bench."""
    hopper = images.grace_hopper_bgr()
    head = astronaut_head()
    people = []
    for photo, scale, flip in [
        (hopper, 3.0, False), (head, 6.0, False), (hopper, 2.0, True),
        (head, 4.0, True), (hopper, 1.4, False), (head, 3.3, False),
    ]:  # fmt: skip
        resized = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        people.append(np.ascontiguousarray(resized[:, ::-1]) if flip else resized)
    positions = [(0, 0), (1600, 0), (2976, 0), (1600, 1500), (2700, 1400), (100, 1900)]
    return placed(people, positions, (4000, 3000))


def with_exif_orientation(frame: np.ndarray, orientation: int) -> bytes:
    """JPEG bytes whose pixels are stored so that a viewer applying EXIF `orientation` (6 or
    8) shows `frame` upright: stored turned, tagged to be turned back."""
    from PIL import Image

    # orientation 6: the viewer turns the stored image 90 degrees clockwise to show it
    turn = {6: cv2.ROTATE_90_COUNTERCLOCKWISE, 8: cv2.ROTATE_90_CLOCKWISE}[orientation]
    stored = cv2.rotate(frame, turn)
    image = Image.fromarray(np.ascontiguousarray(stored[:, :, ::-1]))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, exif=exif)
    return buffer.getvalue()


def encode_png(frame: np.ndarray) -> bytes:
    """PNG bytes of a frame (gray, BGR or BGRA)."""
    ok, encoded = cv2.imencode(".png", frame)
    if not ok:
        raise RuntimeError("could not encode a test image")
    return encoded.tobytes()


def encode_jpeg(frame: np.ndarray, quality: int = 95) -> bytes:
    """JPEG bytes of a frame."""
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("could not encode a test image")
    return encoded.tobytes()
