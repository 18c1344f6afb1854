"""Labelling results as synthetic media: IPTC digital source type in XMP.

The XMP packet is spliced into the encoded bytes (PNG iTXt, JPEG APP1, WebP "XMP " chunk,
an MP4's top-level XMP `uuid` box) rather than re-encoding, so labelling costs
microseconds. Pure (no numpy): the engine labels what it makes, the workflow labels what an
external provider made when the provider did not.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
_JPEG_XMP_PREFIX = b"http://ns.adobe.com/xap/1.0/\x00"
_WEBP_XMP_FLAG = 0x04

_DIGITAL_SOURCE_TYPE = re.compile(
    rb"Iptc4xmpExt:DigitalSourceType\s*=\s*[\"']([^\"']*)[\"']"
    rb"|<Iptc4xmpExt:DigitalSourceType(?:\s[^>]*)?>\s*([^<\s]*)\s*</Iptc4xmpExt:DigitalSourceType>"
)


def synthetic_media_xmp(digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA) -> bytes:
    """Return an XMP packet that declares the IPTC digital source type of the image."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        f'    Iptc4xmpExt:DigitalSourceType="{digital_source_type}"/>\n'
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def embed_xmp(data: bytes, xmp: bytes, *, width: int, height: int) -> bytes:
    """Return `data` (PNG, JPEG or WebP bytes) with the XMP packet added.

    `width` and `height` are needed only to promote a simple WebP file to the extended
    format, whose header carries the canvas size.
    """
    if data.startswith(_PNG_SIGNATURE):
        return _embed_xmp_png(data, xmp)
    if data.startswith(b"\xff\xd8"):
        return _embed_xmp_jpeg(data, xmp)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _embed_xmp_webp(data, xmp, width=width, height=height)
    raise ValueError("not PNG, JPEG or WebP bytes")


def read_digital_source_type(data: bytes) -> str | None:
    """Return the IPTC DigitalSourceType declared in the XMP of PNG, JPEG or WebP bytes.

    Returns None when the image carries no XMP or the XMP declares no source type.
    """
    for packet in _xmp_packets(data):
        match = _DIGITAL_SOURCE_TYPE.search(packet)
        if match:
            value = match.group(1) if match.group(1) is not None else match.group(2)
            return value.decode("utf-8", errors="replace")
    return None


# --- PNG -------------------------------------------------------------------------------


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _embed_xmp_png(data: bytes, xmp: bytes) -> bytes:
    # keyword NUL, compression flag 0, method 0, empty language NUL, empty translation NUL
    payload = _PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + xmp
    ihdr_end = len(_PNG_SIGNATURE) + 8 + struct.unpack(">I", data[8:12])[0] + 4
    return data[:ihdr_end] + _png_chunk(b"iTXt", payload) + data[ihdr_end:]


def _png_xmp_packets(data: bytes) -> list[bytes]:
    packets = []
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        payload = data[pos + 8 : pos + 8 + length]
        if kind == b"iTXt" and payload.startswith(_PNG_XMP_KEYWORD + b"\x00"):
            rest = payload[len(_PNG_XMP_KEYWORD) + 1 :]
            compressed = rest[:1] == b"\x01"
            # skip compression flag and method, then language tag and translated keyword
            _, _, text = rest[2:].split(b"\x00", 2)
            packets.append(zlib.decompress(text) if compressed else text)
        if kind == b"IEND":
            break
        pos += 12 + length
    return packets


# --- JPEG ------------------------------------------------------------------------------


def _embed_xmp_jpeg(data: bytes, xmp: bytes) -> bytes:
    payload = _JPEG_XMP_PREFIX + xmp
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("XMP packet too large for one JPEG APP1 segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    # JFIF requires its APP0 to come first, so the XMP goes right after it
    pos = 2
    while data[pos : pos + 2] == b"\xff\xe0":
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    return data[:pos] + segment + data[pos:]


def _jpeg_xmp_packets(data: bytes) -> list[bytes]:
    packets = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA or marker == 0xD9:  # image data starts; no more metadata
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        payload = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and payload.startswith(_JPEG_XMP_PREFIX):
            packets.append(payload[len(_JPEG_XMP_PREFIX) :])
        pos += 2 + length
    return packets


# --- WebP ------------------------------------------------------------------------------


def _webp_chunk(kind: bytes, payload: bytes) -> bytes:
    padding = b"\x00" if len(payload) % 2 else b""
    return kind + struct.pack("<I", len(payload)) + payload + padding


def _webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 8 + length + (length % 2)
    return chunks


def _embed_xmp_webp(data: bytes, xmp: bytes, *, width: int, height: int) -> bytes:
    chunks = _webp_chunks(data)
    if chunks and chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        header[0] |= _WEBP_XMP_FLAG
        chunks[0] = (b"VP8X", bytes(header))
    else:
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", bytes([_WEBP_XMP_FLAG, 0, 0, 0]) + canvas))
    chunks.append((b"XMP ", xmp))
    body = b"WEBP" + b"".join(_webp_chunk(kind, payload) for kind, payload in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _xmp_packets(data: bytes) -> list[bytes]:
    if data.startswith(_PNG_SIGNATURE):
        return _png_xmp_packets(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_xmp_packets(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return [payload for kind, payload in _webp_chunks(data) if kind == b"XMP "]
    return []


# --- MP4 (ISO BMFF) --------------------------------------------------------------------

# The XMP box of ISO base media files (XMP specification part 3, 1.2.7): a top-level
# `uuid` box with this user type, the packet as its payload.
_MP4_XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")


def _mp4_boxes(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, size, type) of each top-level box; a size-0 box runs to the end."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        if size < 8:
            break
        boxes.append((offset, size, kind))
        offset += size
    return boxes


def mp4_digital_source_type(data: bytes) -> str | None:
    """The IPTC DigitalSourceType of an MP4's XMP box, or None."""
    for offset, size, kind in _mp4_boxes(data):
        payload = data[offset + 8 : offset + size]
        if kind == b"uuid" and payload[:16] == _MP4_XMP_UUID:
            match = _DIGITAL_SOURCE_TYPE.search(payload[16:])
            if match:
                value = match.group(1) if match.group(1) is not None else match.group(2)
                return value.decode("utf-8", errors="replace")
    return None


def label_mp4(path: Path) -> bool:
    """Append the synthetic-media XMP box to the MP4 at `path` unless it declares a source
    type already; True when a box was added. Top-level boxes may come in any order, so
    appending leaves every offset inside the file as it was."""
    data = path.read_bytes()
    if not data[4:8] == b"ftyp":
        raise ValueError("not an MP4 file")
    if mp4_digital_source_type(data) is not None:
        return False
    with path.open("r+b") as file:
        for offset, _size, _kind in _mp4_boxes(data):
            if struct.unpack(">I", data[offset : offset + 4])[0] == 0:  # "to the end"
                file.seek(offset)
                file.write(struct.pack(">I", len(data) - offset))
        file.seek(0, 2)
        payload = _MP4_XMP_UUID + synthetic_media_xmp()
        file.write(struct.pack(">I4s", 8 + len(payload), b"uuid") + payload)
    return True


def label_image(data: bytes, width: int, height: int) -> bytes:
    """`data` (PNG, JPEG or WebP) with the synthetic-media label, unless it has one."""
    if read_digital_source_type(data) is not None:
        return data
    return embed_xmp(data, synthetic_media_xmp(), width=width, height=height)
