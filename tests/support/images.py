"""Real test photos as encoded bytes, from data files that ship with installed packages."""

from __future__ import annotations

import functools

import cv2
import numpy as np


def _encode(frame: np.ndarray, ext: str, params: list[int] | None = None) -> bytes:
    ok, encoded = cv2.imencode(ext, frame, params or [])
    if not ok:
        raise RuntimeError(f"could not encode test image as {ext}")
    return encoded.tobytes()


@functools.cache
def astronaut_bgr() -> np.ndarray:
    """Eileen Collins, 512x512, one face (skimage.data.astronaut)."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


@functools.cache
def grace_hopper_bgr() -> np.ndarray:
    """Grace Hopper, 512x600, one face (matplotlib sample data)."""
    from matplotlib import cbook

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None:
        raise RuntimeError(f"could not read {path}")
    return frame


@functools.cache
def coffee_bgr() -> np.ndarray:
    """A cup of coffee, 400x600, no face (skimage.data.coffee)."""
    from skimage import data

    return np.ascontiguousarray(data.coffee()[:, :, ::-1])


def astronaut_jpeg() -> bytes:
    return _encode(astronaut_bgr(), ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95])


def astronaut_png() -> bytes:
    return _encode(astronaut_bgr(), ".png")


def grace_hopper_jpeg() -> bytes:
    return _encode(grace_hopper_bgr(), ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95])


def grace_hopper_png() -> bytes:
    return _encode(grace_hopper_bgr(), ".png")


def coffee_jpeg() -> bytes:
    """A photo with no face in it."""
    return _encode(coffee_bgr(), ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95])


@functools.cache
def grace_hopper_1mp_bgr() -> np.ndarray:
    """Grace Hopper upscaled 1.75x and padded to 1280x800 (about 1 MP), one face."""
    upscaled = cv2.resize(grace_hopper_bgr(), None, fx=1.75, fy=1.75, interpolation=cv2.INTER_CUBIC)
    height, width = upscaled.shape[:2]
    canvas_h, canvas_w = 1050, 1000
    top = (canvas_h - height) // 2
    left = (canvas_w - width) // 2
    return cv2.copyMakeBorder(
        upscaled,
        top,
        canvas_h - height - top,
        left,
        canvas_w - width - left,
        cv2.BORDER_REFLECT_101,
    )


def grace_hopper_1mp_jpeg() -> bytes:
    """About 1 MP, one face; the benchmark's target."""
    return _encode(grace_hopper_1mp_bgr(), ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 92])


def two_faces_jpeg() -> bytes:
    """Grace Hopper (face ~215 px) and the astronaut (face ~88 px) side by side, 1024x600."""
    hopper = grace_hopper_bgr()
    astronaut = astronaut_bgr()
    canvas = np.full((hopper.shape[0], hopper.shape[1] + astronaut.shape[1], 3), 128, np.uint8)
    canvas[:, : hopper.shape[1]] = hopper
    canvas[: astronaut.shape[0], hopper.shape[1] :] = astronaut
    return _encode(canvas, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95])
