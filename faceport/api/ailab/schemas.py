"""AILabTools' multipart fields and answer body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from faceport.api.ailab.errors import MissingParameters
from faceport.errors import ValidationFailed
from faceport.media import inspect_image

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_SIDE = 4096
# Each image must be larger than this (px per side): the donor, the template.
MIN_SIDE = {"image_target": 128, "image_template": 200}
ACCEPTED = frozenset({"image/jpeg", "image/png", "image/bmp"})
DEFAULT_SIMILARITY = 0.5


@dataclass(frozen=True)
class FusionForm:
    """The form, checked: `image_target` is the donor, `image_template` the photo kept."""

    image_target: bytes
    image_template: bytes
    template_type: str
    source_similarity: float


def _image(parts: dict[str, tuple[bytes, bool]], name: str) -> tuple[bytes, str]:
    data = parts.get(name, (b"", False))[0]
    if not data:
        raise MissingParameters(f"{name} is required.")
    info = inspect_image(data, max_bytes=MAX_FILE_BYTES, max_pixels=MAX_SIDE * MAX_SIDE)
    small, large = MIN_SIDE[name], MAX_SIDE
    if info.media_type not in ACCEPTED:
        raise ValidationFailed(f"{name} must be a JPEG, JPG, BMP or PNG image.")
    if not (small < info.width < large and small < info.height < large):
        raise ValidationFailed(
            f"{name} must be larger than {small}x{small} and smaller than {large}x{large} px."
        )
    return data, info.media_type


def _similarity(parts: dict[str, tuple[bytes, bool]]) -> float:
    raw = parts.get("source_similarity", (b"", False))[0].decode("utf-8", "replace").strip()
    if not raw:
        return DEFAULT_SIMILARITY
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValidationFailed("source_similarity must be a number in [0, 1].") from exc
    if not 0.0 <= value <= 1.0:
        raise ValidationFailed("source_similarity must be a number in [0, 1].")
    return value


def read_form(parts: dict[str, tuple[bytes, bool]]) -> FusionForm:
    """The checked form, or the field's 400."""
    target, _ = _image(parts, "image_target")
    template, template_type = _image(parts, "image_template")
    return FusionForm(target, template, template_type, _similarity(parts))


class FusionData(BaseModel):
    image: str


class FusionAnswer(BaseModel):
    request_id: str
    log_id: str
    error_code: int
    error_msg: str
    error_detail: dict[str, Any]
    data: FusionData | None = None
