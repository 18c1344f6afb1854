"""The task: what a client submitted, where it is, and how it ended."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED})
ACTIVE = frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING})

Operation = Literal["face_swap", "face_fusion", "face_detect", "video_face_swap"]
OutputFormat = Literal["png", "jpg", "webp"]
# One face by index (0 = largest), several, or every face.
TargetSelection = int | list[int] | Literal["all"]

MEDIA_TYPES: dict[str, str] = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


class InputRef(BaseModel):
    """Where an input lives: a URL still to fetch, or a blob already stored."""

    model_config = ConfigDict(frozen=True)

    url: str | None = None
    blob: str | None = None


class VideoInfo(BaseModel):
    """What a probe of an input video found: picture size as displayed, timing, audio."""

    model_config = ConfigDict(frozen=True)

    width: int = Field(description="Width as displayed (after any rotation).")
    height: int = Field(description="Height as displayed (after any rotation).")
    duration_s: float
    frames: int
    frame_rate: float = Field(description="Average frames per second.")
    rotation: int = Field(default=0, description="Display rotation the file asks for, degrees.")
    has_audio: bool = False


class TaskError(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class FaceMapEntry(BaseModel):
    """Put source face `source_index` onto target face `target_index` (both largest first)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_index: int = Field(ge=0, le=99)
    target_index: int = Field(ge=0, le=99)


class TaskParams(BaseModel):
    """The options a task was submitted with; which ones apply depends on the operation."""

    model_config = ConfigDict(frozen=True)

    target_index: TargetSelection = 0
    face_map: list[FaceMapEntry] | None = None
    similarity: float | None = None
    output_format: OutputFormat = "png"
    enhance: bool = False  # the neural backend's face restorer (native API only)


class Task(BaseModel):
    """One unit of work, as stored. Immutable: changes make a new copy."""

    model_config = ConfigDict(frozen=True)

    id: str
    account_id: str
    operation: Operation
    # The API it came through (a route group's name): its status answers and webhook
    # event are rendered in that dialect.
    dialect: str = "native"
    status: TaskStatus = TaskStatus.QUEUED
    params: TaskParams
    inputs: dict[str, InputRef]
    metadata: dict[str, Any] | None = None
    notify_url: str | None = None  # where the final event goes (see faceport.webhooks)
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: int = Field(default=0, ge=0, le=100)
    attempts: int = 0
    price: int = Field(default=0, ge=0, description="Credits it was accepted (reserved) at.")
    result_key: str | None = None
    result_data: dict[str, Any] | None = None
    error: TaskError | None = None
    video: VideoInfo | None = Field(
        default=None, description="The input video as probed (video tasks; billing uses it)."
    )


def new_task_id() -> str:
    """A task id that sorts by creation time: 12 hex digits of milliseconds, then randomness."""
    return f"task_{int(time.time() * 1000):012x}{secrets.token_hex(8)}"


def utcnow() -> datetime:
    return datetime.now(UTC)
