"""Decoding input bytes to frames and encoding frames to output bytes."""

from __future__ import annotations

import cv2
import numpy as np

from faceport.errors import UnreadableImage
from faceport.tasks import OutputFormat

from ._png import encode_png
from ._provenance import embed_xmp, synthetic_media_xmp
from ._types import Frame


def decode_image(data: bytes) -> Frame:
    """Decode image bytes to a BGR frame.

    EXIF orientation is applied (cv2 does this for IMREAD_COLOR), grayscale is expanded to
    three channels, alpha is dropped and 16-bit input is reduced to 8 bits.
    Raises `UnreadableImage` when the bytes are not an image cv2 can read.
    """
    if not data:
        raise UnreadableImage("The image is empty.")
    buffer = np.frombuffer(data, dtype=np.uint8)
    frame = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if frame is None or frame.size == 0:
        raise UnreadableImage()
    return frame


def encode_image(
    frame: Frame,
    output_format: OutputFormat,
    *,
    png_compression: int = 1,
    png_threads: int = 2,
    jpeg_quality: int = 92,
    webp_quality: int = 90,
) -> bytes:
    """Encode a BGR frame and label the result as synthetic media (IPTC XMP).

    PNG compression is kept low because deflate dominates the pipeline on a 1 MP frame;
    the file is larger but the pixels are the same.
    """
    height, width = frame.shape[:2]
    xmp = synthetic_media_xmp()
    if output_format == "png":
        png = encode_png(frame, level=png_compression, threads=png_threads)
        return embed_xmp(png, xmp, width=width, height=height)
    if output_format == "jpg":
        ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    elif output_format == "webp":
        ok, encoded = cv2.imencode(".webp", frame, [cv2.IMWRITE_WEBP_QUALITY, webp_quality])
    else:
        raise ValueError(f"unsupported output format: {output_format!r}")
    if not ok:
        raise RuntimeError(f"cv2 could not encode the frame as {output_format}")
    return embed_xmp(encoded.tobytes(), xmp, width=width, height=height)
