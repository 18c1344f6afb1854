"""The request bodies of the submit routes, built from the client's arguments (pure; a
test checks them against the server's OpenAPI schemas)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from faceport_client._inputs import Input, to_input

OutputFormat = Literal["png", "jpg", "webp"]
TargetIndex = int | Sequence[int] | Literal["all"]


def _common(metadata: dict[str, Any] | None, notify_url: str | None) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if metadata is not None:
        extra["metadata"] = metadata
    if notify_url is not None:
        extra["notify_url"] = notify_url
    return extra


def swap_body(
    source: Input,
    target: Input,
    *,
    target_index: TargetIndex = 0,
    face_map: Sequence[tuple[int, int]] | None = None,
    output_format: OutputFormat = "png",
    metadata: dict[str, Any] | None = None,
    notify_url: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": to_input(source),
        "target": to_input(target),
        "target_index": target_index
        if isinstance(target_index, (int, str))
        else list(target_index),
        "output_format": output_format,
    }
    if face_map is not None:
        body["face_map"] = [{"source_index": s, "target_index": t} for s, t in face_map]
    return body | _common(metadata, notify_url)


def fuse_body(
    source: Input,
    target: Input,
    *,
    similarity: float,
    output_format: OutputFormat = "png",
    metadata: dict[str, Any] | None = None,
    notify_url: str | None = None,
) -> dict[str, Any]:
    body = {
        "source": to_input(source),
        "target": to_input(target),
        "similarity": similarity,
        "output_format": output_format,
    }
    return body | _common(metadata, notify_url)


def swap_video_body(
    source: Input,
    video: Input,
    *,
    target_index: int | Literal["all"] | None = None,
    reference_face: Input | None = None,
    metadata: dict[str, Any] | None = None,
    notify_url: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"source": to_input(source), "video": to_input(video)}
    if target_index is not None:
        body["target_index"] = target_index
    if reference_face is not None:
        body["reference_face"] = to_input(reference_face)
    return body | _common(metadata, notify_url)


def detect_body(image: Input) -> dict[str, Any]:
    return {"image": to_input(image)}
