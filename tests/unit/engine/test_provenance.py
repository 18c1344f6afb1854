from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from faceport.engine import TRAINED_ALGORITHMIC_MEDIA, encode_image, read_digital_source_type
from faceport.engine._provenance import embed_xmp, synthetic_media_xmp


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)


@pytest.mark.parametrize("output_format", ["png", "jpg", "webp"])
def test_every_format_declares_trained_algorithmic_media(frame, output_format):
    data = encode_image(frame, output_format)

    assert read_digital_source_type(data) == TRAINED_ALGORITHMIC_MEDIA


@pytest.mark.parametrize("output_format", ["png", "jpg", "webp"])
def test_labelled_files_still_decode_and_other_readers_see_the_xmp(frame, output_format):
    data = encode_image(frame, output_format)

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size == (53, 37)
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    assert xmp is not None
    xmp_bytes = xmp if isinstance(xmp, bytes) else xmp.encode()
    assert TRAINED_ALGORITHMIC_MEDIA.encode() in xmp_bytes


def test_png_is_lossless(frame):
    import cv2

    data = encode_image(frame, "png")

    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(decoded, frame)


def test_png_xmp_is_an_itxt_chunk_with_the_adobe_keyword(frame):
    data = encode_image(frame, "png")

    assert b"iTXt" + b"XML:com.adobe.xmp\x00" in data


def test_jpeg_xmp_is_an_app1_segment(frame):
    data = encode_image(frame, "jpg")

    assert b"\xff\xe1" in data[:64]
    assert b"http://ns.adobe.com/xap/1.0/\x00" in data


def test_unlabelled_images_read_as_none(frame):
    import cv2

    for ext in (".png", ".jpg", ".webp"):
        ok, encoded = cv2.imencode(ext, frame)
        assert ok
        assert read_digital_source_type(encoded.tobytes()) is None
    assert read_digital_source_type(b"not an image") is None


def test_other_source_types_are_read_back_as_written(frame):
    import cv2

    ok, encoded = cv2.imencode(".png", frame)
    assert ok
    other = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    data = embed_xmp(encoded.tobytes(), synthetic_media_xmp(other), width=53, height=37)

    assert read_digital_source_type(data) == other
