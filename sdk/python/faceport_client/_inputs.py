"""What callers pass as an image or a video, turned into the API's `{"url"}` or
`{"base64"}` input."""

from __future__ import annotations

import base64
import os
from typing import IO, Any

# A path (str or Path), raw bytes, an open binary file, or an http(s) URL the server fetches.
Input = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]


def to_input(value: Input) -> dict[str, str]:
    """The API input for `value`: URLs go as `url` (the server fetches them), everything
    else is read here and sent inline as base64."""
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return {"url": value}
    if isinstance(value, str) and value.startswith("data:"):
        return {"base64": value}
    return {"base64": base64.b64encode(_read(value)).decode("ascii")}


def _read(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (str, os.PathLike)):
        with open(value, "rb") as handle:
            return handle.read()
    if hasattr(value, "read"):
        data = value.read()
        if isinstance(data, str):
            raise TypeError("open the file in binary mode ('rb')")
        return bytes(data)
    raise TypeError(
        f"an input is a path, bytes, a binary file or an http(s) URL, not {type(value).__name__}"
    )
