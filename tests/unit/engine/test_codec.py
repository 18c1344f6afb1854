from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from faceport.engine import decode_image
from faceport.errors import UnreadableImage


def _pil_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _asymmetric_rgb() -> Image.Image:
    # a wide image with a red left half, so a rotation shows in both shape and colour
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:, :20] = (255, 0, 0)
    pixels[:, 20:] = (0, 0, 255)
    return Image.fromarray(pixels, "RGB")


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees clockwise
    data = _pil_bytes(_asymmetric_rgb(), "JPEG", quality=95, exif=exif.tobytes())

    frame = decode_image(data)

    assert frame.shape == (40, 20, 3)
    # rotated clockwise: the red half (left) is now on top; red is channel 2 in BGR
    assert frame[:10, :, 2].mean() > 200
    assert frame[30:, :, 0].mean() > 200


def test_grayscale_becomes_three_channel_bgr():
    gray = Image.fromarray(np.tile(np.arange(0, 250, 10, dtype=np.uint8), (12, 1)), "L")

    frame = decode_image(_pil_bytes(gray, "PNG"))

    assert frame.shape == (12, 25, 3)
    assert frame.dtype == np.uint8
    assert np.array_equal(frame[:, :, 0], frame[:, :, 2])


def test_rgba_becomes_bgr():
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[..., 0] = 200  # red
    rgba[..., 3] = 255

    frame = decode_image(_pil_bytes(Image.fromarray(rgba, "RGBA"), "PNG"))

    assert frame.shape == (10, 10, 3)
    assert frame[0, 0].tolist() == [0, 0, 200]


@pytest.mark.parametrize(
    "data", [b"", b"definitely not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 64]
)
def test_unreadable_bytes_raise(data):
    with pytest.raises(UnreadableImage):
        decode_image(data)


def test_decode_matches_cv2_for_plain_png():
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, size=(9, 11, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", frame)
    assert ok

    assert np.array_equal(decode_image(encoded.tobytes()), frame)
