"""Small real images made on the spot, for tests where the pixels do not matter."""

from __future__ import annotations

import io

from PIL import Image


def tiny_image(fmt: str = "PNG", size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, fmt)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims `width`x`height`: a decompression bomb's calling card."""
    import struct
    import zlib

    data = bytearray(tiny_image("PNG"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)
