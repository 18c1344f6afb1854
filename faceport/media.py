"""Checking inputs before any work is done: base64, size, format and pixel count (images);
size and container (videos).

Only the image header is read here (Pillow opens lazily), so a decompression bomb is
refused on its declared dimensions before a single pixel is decoded.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image

from faceport.errors import ImageTooLarge, InputTooLarge, InvalidBase64, UnsupportedMedia

_DATA_URI = re.compile(r"^data:[\w.+-]+/[\w.+-]+;base64,", re.IGNORECASE)

# Sniffed from the first bytes, never from a file name or a declared content type.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
)


# Video containers we hand to the decoder; the probe in the workflow reads the rest.
_VIDEO_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"ftyp", 4, "video/mp4"),  # MP4, MOV, M4V, 3GP: an ISO base media file
    (b"\x1a\x45\xdf\xa3", 0, "video/webm"),  # Matroska / WebM (EBML header)
    (b"AVI ", 8, "video/x-msvideo"),
)


@dataclass(frozen=True)
class ImageInfo:
    media_type: str
    width: int
    height: int


def decode_base64(text: str, max_bytes: int) -> bytes:
    """Decode standard base64 (a `data:` URI prefix is allowed); refuse junk and oversize."""
    text = _DATA_URI.sub("", text.strip(), count=1)
    # 4 characters carry 3 bytes: refuse before allocating a huge buffer.
    if len(text) * 3 // 4 > max_bytes + 3:
        raise InputTooLarge(f"The decoded input is larger than {max_bytes} bytes.", limit=max_bytes)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidBase64(f"A base64 input could not be decoded: {exc}.") from exc
    if not data:
        raise InvalidBase64("A base64 input is empty.")
    return data


def sniff_media_type(data: bytes) -> str | None:
    """The image media type from magic bytes, or None for anything we do not accept."""
    for signature, offset, media_type in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            if media_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return media_type
    return None


def inspect_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Check that `data` is a JPEG, PNG or WebP within the byte and pixel limits."""
    if len(data) > max_bytes:
        raise InputTooLarge(f"The input is larger than {max_bytes} bytes.", limit=max_bytes)
    media_type = sniff_media_type(data)
    if media_type is None:
        raise UnsupportedMedia()
    try:
        with warnings.catch_warnings():
            # Pillow warns on big images; our own limit below is the one that counts.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(
            f"The image has more than {max_pixels} pixels.", limit=max_pixels
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMedia(f"The image header could not be read: {exc}.") from exc
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"The image is {width}x{height}; at most {max_pixels} pixels are allowed.",
            limit=max_pixels,
        )
    return ImageInfo(media_type=media_type, width=width, height=height)


def sniff_video_type(data: bytes) -> str | None:
    """The video container's media type from magic bytes, or None if it is not one we take."""
    for signature, offset, media_type in _VIDEO_SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            if media_type == "video/x-msvideo" and not data.startswith(b"RIFF"):
                continue
            return media_type
    return None


def inspect_video(data: bytes, *, max_bytes: int) -> str:
    """Check that `data` is within the byte limit and looks like a video container; return
    its media type. Duration and resolution need the decoder (see `faceport.video_probe`)."""
    if len(data) > max_bytes:
        raise InputTooLarge(f"The video is larger than {max_bytes} bytes.", limit=max_bytes)
    media_type = sniff_video_type(data)
    if media_type is None:
        raise UnsupportedMedia(
            "The video is not in a supported container (MP4/MOV, WebM/MKV, AVI)."
        )
    return media_type


def declared_video_seconds(data: bytes) -> float | None:
    """An MP4/MOV's duration as its movie header (`moov/mvhd`) declares it, read without a
    decoder (the API Lambdas have none), or None when there is no such header to read.
    It prices the hold at submit; the workflow's probe decides the charge."""
    moov = _box(data, b"moov")
    mvhd = _box(moov, b"mvhd") if moov is not None else None
    if mvhd is None or len(mvhd) < 20:
        return None
    if mvhd[0] == 1:  # version 1: 64-bit times and duration
        if len(mvhd) < 32:
            return None
        timescale = int.from_bytes(mvhd[20:24], "big")
        duration = int.from_bytes(mvhd[24:32], "big")
    else:
        timescale = int.from_bytes(mvhd[12:16], "big")
        duration = int.from_bytes(mvhd[16:20], "big")
    if timescale == 0 or duration in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return None
    return duration / timescale


def _box(data: bytes, kind: bytes) -> bytes | None:
    """The payload of the first top-level ISO BMFF box of `kind` in `data`."""
    at = 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        header = 8
        if size == 1 and at + 16 <= len(data):
            size, header = int.from_bytes(data[at + 8 : at + 16], "big"), 16
        elif size == 0:
            size = len(data) - at
        if size < header:
            return None
        if data[at + 4 : at + 8] == kind:
            return data[at + header : at + size]
        at += size
    return None
