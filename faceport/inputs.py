"""A task's inputs: what a client gives (a URL or base64), and the one check an input's
bytes pass before they are stored, whether they came inline at submit or were fetched by
the workflow's prepare step."""

from __future__ import annotations

from dataclasses import dataclass

from faceport.media import decode_base64, inspect_image, inspect_video
from faceport.operations import InputKind
from faceport.ports import BlobStore
from faceport.settings import Settings
from faceport.tasks import InputRef


@dataclass(frozen=True)
class GivenInput:
    """One input as a client gave it: exactly one of a URL (fetched later) or base64."""

    url: str | None = None
    base64: str | None = None


def input_key(task_id: str, name: str) -> str:
    return f"inputs/{task_id}/{name}"


def byte_cap(kind: InputKind, limits: Settings) -> int:
    """The most bytes an input of `kind` may have."""
    return limits.max_video_bytes if kind == "video" else limits.max_input_bytes


def decode_inline(given: GivenInput, kind: InputKind, limits: Settings) -> bytes:
    """The bytes of a base64 input, refused when over the cap before decoding."""
    assert given.base64 is not None
    return decode_base64(given.base64, byte_cap(kind, limits))


def store_input(
    blobs: BlobStore, limits: Settings, task_id: str, name: str, kind: InputKind, data: bytes
) -> str:
    """Check an input's bytes (size, sniffed format, image pixels) and store them; returns
    the blob key. Raises the input's 4xx error before anything is stored."""
    if kind == "video":
        media_type = inspect_video(data, max_bytes=limits.max_video_bytes)
    else:
        media_type = inspect_image(
            data, max_bytes=limits.max_input_bytes, max_pixels=limits.max_input_pixels
        ).media_type
    key = input_key(task_id, name)
    blobs.put(key, data, media_type)
    return key


def drop_inputs(blobs: BlobStore, inputs: dict[str, InputRef]) -> None:
    """Delete the stored blobs of inputs of a task that will not be written."""
    for ref in inputs.values():
        if ref.blob is not None:
            blobs.delete(ref.blob)
