import base64

import pytest

from faceport.errors import ImageTooLarge, InputTooLarge, InvalidBase64, UnsupportedMedia
from faceport.media import decode_base64, inspect_image, sniff_media_type
from tests.support.tiny import png_declaring, tiny_image

LIMITS = {"max_bytes": 1_000_000, "max_pixels": 4_000_000}


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("BMP", "image/bmp")],
)
def test_accepts_the_four_formats_and_reads_size(fmt: str, media_type: str) -> None:
    info = inspect_image(tiny_image(fmt, (40, 30)), **LIMITS)
    assert (info.media_type, info.width, info.height) == (media_type, 40, 30)


@pytest.mark.parametrize("fmt", ["GIF", "TIFF"])
def test_other_image_formats_are_unsupported(fmt: str) -> None:
    with pytest.raises(UnsupportedMedia):
        inspect_image(tiny_image(fmt), **LIMITS)


def test_text_is_not_an_image() -> None:
    assert sniff_media_type(b"hello world, not an image") is None
    with pytest.raises(UnsupportedMedia):
        inspect_image(b"hello world, not an image", **LIMITS)


def test_truncated_image_header_is_unsupported() -> None:
    with pytest.raises(UnsupportedMedia):
        inspect_image(tiny_image("PNG")[:20], **LIMITS)


def test_too_many_bytes() -> None:
    with pytest.raises(InputTooLarge):
        inspect_image(tiny_image("PNG"), max_bytes=10, max_pixels=10**9)


@pytest.mark.parametrize("side", [3000, 100_000])
def test_decompression_bomb_is_refused_from_its_header(side: int) -> None:
    with pytest.raises(ImageTooLarge):
        inspect_image(png_declaring(side, side), **LIMITS)


def test_base64_plain_and_data_uri() -> None:
    raw = tiny_image("PNG")
    encoded = base64.b64encode(raw).decode()
    assert decode_base64(encoded, 10_000) == raw
    assert decode_base64(f"data:image/png;base64,{encoded}", 10_000) == raw


@pytest.mark.parametrize("junk", ["not base64!", "YWJj$", "", "===="])
def test_bad_base64(junk: str) -> None:
    with pytest.raises(InvalidBase64):
        decode_base64(junk, 10_000)


def test_base64_over_limit_is_refused_before_decoding() -> None:
    with pytest.raises(InputTooLarge):
        decode_base64("A" * 4000, 100)
