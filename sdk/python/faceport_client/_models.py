"""The API's answers as typed objects. Each model names the OpenAPI component it mirrors
(`OPENAPI_COMPONENT`); a test compares the two so that they cannot drift apart.

Unknown fields are ignored, so a newer server never breaks an older client."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    OPENAPI_COMPONENT: ClassVar[str]


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended (it will not change again)."""
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED)


class ErrorInfo(_Model):
    OPENAPI_COMPONENT = "ErrorInfo"
    code: str
    message: str


class FaceBox(_Model):
    OPENAPI_COMPONENT = "FaceBox"
    x: int
    y: int
    width: int
    height: int


class DetectedFace(_Model):
    """One face: `index` is what `target_index` counts (0 = largest)."""

    OPENAPI_COMPONENT = "DetectedFaceView"
    index: int
    box: FaceBox
    score: float
    landmarks: list[tuple[float, float]] | None = None


class TaskResult(_Model):
    """An image or video result (`url`, expiring at `expires_at`) or detected `faces`."""

    OPENAPI_COMPONENT = "ResultInfo"
    url: str | None = None
    expires_at: datetime | None = None
    content_type: str | None = None
    faces: list[DetectedFace] | None = None


class TaskBackend(_Model):
    """Which backend ran the task: "engine", or the name of the provider the deployment
    routed it to, with that provider's own id for it."""

    OPENAPI_COMPONENT = "BackendView"
    name: str
    task_id: str | None = None


class Timings(_Model):
    OPENAPI_COMPONENT = "Timings"
    queued_ms: int | None = None
    run_ms: int | None = None
    total_ms: int | None = None


class VideoInfo(_Model):
    OPENAPI_COMPONENT = "VideoInfo"
    width: int
    height: int
    duration_s: float
    frames: int
    frame_rate: float
    rotation: int = 0
    has_audio: bool = False


class Task(_Model):
    """A task as the API shows it. `download(path)` saves its result."""

    OPENAPI_COMPONENT = "TaskView"
    id: str
    object: Literal["task"] = "task"
    operation: str
    status: TaskStatus
    progress: int
    params: dict[str, Any]
    metadata: dict[str, Any] | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timings: Timings
    price: int
    result: TaskResult | None = None
    error: ErrorInfo | None = None
    video: VideoInfo | None = None
    backend: TaskBackend | None = None

    def download(self, path: str | Path) -> Path:
        """Save the result (image or video) to `path`; returns the path."""
        from faceport_client._client import task_download

        return task_download(self, path)

    @property
    def faces(self) -> list[DetectedFace]:
        """Face detection: the faces found, largest first (empty for other tasks)."""
        return list(self.result.faces or []) if self.result else []


class TaskList(_Model):
    OPENAPI_COMPONENT = "TaskList"
    object: Literal["list"] = "list"
    data: list[Task]
    next_cursor: str | None = None


class Usage(_Model):
    OPENAPI_COMPONENT = "Usage"
    count: int = 0
    credits: int = 0


class Account(_Model):
    """Credits: `available` = `balance` - `reserved` (held for unfinished tasks)."""

    OPENAPI_COMPONENT = "AccountView"
    id: str
    object: Literal["account"] = "account"
    name: str
    balance: int
    reserved: int
    available: int
    usage: dict[str, Usage]
    key_id: str | None = None


class SigningSecret(_Model):
    OPENAPI_COMPONENT = "SigningSecretView"
    secret: str
    created_at: datetime
    expires_at: datetime | None = None


class SigningSecrets(_Model):
    OPENAPI_COMPONENT = "SigningSecrets"
    object: Literal["webhook_signing_secrets"] = "webhook_signing_secrets"
    current: str
    secrets: list[SigningSecret]


class WebhookEvent(_Model):
    """A verified webhook delivery: `type` is task.succeeded, task.failed or task.canceled."""

    OPENAPI_COMPONENT = ""  # not in the API's reference: it is what the server sends
    type: str
    timestamp: datetime
    data: Task


ALL_MODELS: tuple[type[_Model], ...] = (
    ErrorInfo,
    FaceBox,
    DetectedFace,
    TaskResult,
    TaskBackend,
    Timings,
    VideoInfo,
    Task,
    TaskList,
    Usage,
    Account,
    SigningSecret,
    SigningSecrets,
)
