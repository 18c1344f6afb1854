"""A PNG writer that deflates row bands on several threads with ISA-L.

cv2's PNG encoder spends ~55 ms on a 1 MP frame even at compression level 1, all on one
core, and zlib's fastest setting still ~28 ms. Here rows get the PNG "Up" filter
(vectorised), and bands of rows are deflated in parallel by ISA-L (python-isal: ~8 ms a
1 MP frame on one core at level 1, output a little smaller than zlib's; it releases the
GIL) and joined pigz-style: every band but the last ends with a sync flush, so the raw
deflate streams concatenate into one valid stream.
"""

from __future__ import annotations

import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from isal import isal_zlib

from ._types import Frame

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_UP = 2
# readers cap one chunk's size (libpng at 8 MB by default, OpenCV warns beyond it), so the
# compressed stream is split over IDAT chunks of this size, as other writers do
_IDAT_BYTES = 1 << 20

_pool_lock = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}


def _deflate_pool(workers: int) -> ThreadPoolExecutor:
    with _pool_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="png-deflate")
            _pools[workers] = pool
        return pool


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def filter_rows_up(rgb: np.ndarray) -> np.ndarray:
    """Return the PNG scanlines of an RGB uint8 image, each row Up-filtered (type byte first)."""
    height = rgb.shape[0]
    rows = rgb.reshape(height, -1)
    filtered = np.empty((height, rows.shape[1] + 1), dtype=np.uint8)
    filtered[:, 0] = _FILTER_UP
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    return filtered


def _deflate_band(data: memoryview, level: int, last: bool) -> bytes:
    # ISA-L levels run 0-3; raw deflate (negative window bits), the zlib wrapper is ours
    compressor = isal_zlib.compressobj(min(level, 3), isal_zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(
        isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH
    )


def encode_png(frame: Frame, *, level: int = 1, threads: int = 2) -> bytes:
    """Encode a BGR frame as an 8-bit RGB PNG, deflating on up to `threads` threads."""
    height, width = frame.shape[:2]
    scanlines = filter_rows_up(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    data = memoryview(scanlines.reshape(-1))
    row_bytes = scanlines.shape[1]
    bands = max(1, min(threads, height))
    edges = [round(height * i / bands) * row_bytes for i in range(bands + 1)]
    parts = [(data[edges[i] : edges[i + 1]], level, i == bands - 1) for i in range(bands)]
    if bands == 1:
        deflated = [_deflate_band(*parts[0])]
    else:
        deflated = list(_deflate_pool(bands).map(lambda part: _deflate_band(*part), parts))
    # zlib wrapper around the joined raw stream: CMF/FLG for a 32K window, Adler-32 at the end
    stream = b"\x78\x01" + b"".join(deflated) + struct.pack(">I", isal_zlib.adler32(data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = [
        _chunk(b"IDAT", stream[start : start + _IDAT_BYTES])
        for start in range(0, len(stream), _IDAT_BYTES)
    ]
    return b"".join([_PNG_SIGNATURE, _chunk(b"IHDR", header), *idat, _chunk(b"IEND", b"")])
