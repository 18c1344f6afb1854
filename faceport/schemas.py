"""The native API's request and response bodies (also the OpenAPI schema's source)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from faceport.tasks import OutputFormat, TaskStatus


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageInput(_Strict):
    """An image given by URL (fetched by the server) or inline as base64."""

    url: str | None = Field(default=None, description="http(s) URL of a JPEG, PNG or WebP.")
    base64: str | None = Field(default=None, description="Base64 bytes (a data: URI is fine).")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.url is None) == (self.base64 is None):
            raise ValueError("give exactly one of 'url' or 'base64'")
        return self


class FaceSwapRequest(_Strict):
    """Put the face of `source` onto a face of `target`."""

    source: ImageInput = Field(description="The image whose (largest) face is used.")
    target: ImageInput = Field(description="The image whose face is replaced.")
    target_index: int = Field(
        default=0, ge=0, le=99, description="Which face of the target: 0 is the largest."
    )
    output_format: OutputFormat = "png"
    metadata: dict[str, Any] | None = Field(
        default=None, description="Anything you like; echoed back on the task."
    )


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable, machine-readable error code.")
    message: str = Field(description="What went wrong, for humans.")


class ErrorBody(BaseModel):
    error: ErrorInfo


class ResultInfo(BaseModel):
    url: str = Field(description="Download link; it expires at `expires_at`.")
    expires_at: datetime
    content_type: str


class Timings(BaseModel):
    queued_ms: int | None = None
    run_ms: int | None = None
    total_ms: int | None = None


class TaskView(BaseModel):
    """A task as clients see it."""

    id: str
    object: Literal["task"] = "task"
    operation: str
    status: TaskStatus
    progress: int
    params: dict[str, Any]
    metadata: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    timings: Timings
    result: ResultInfo | None
    error: ErrorInfo | None


class TaskList(BaseModel):
    object: Literal["list"] = "list"
    data: list[TaskView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")
