"""The native API's request and response bodies (also the OpenAPI schema's source)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from faceport.tasks import FaceMapEntry, OutputFormat, TargetSelection, TaskStatus, VideoInfo


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
    target_index: TargetSelection = Field(
        default=0,
        description=(
            "Which faces of the target get the source's largest face: an index (0 is the "
            'largest face), a list of indexes, or "all".'
        ),
    )
    face_map: list[FaceMapEntry] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="Source face -> target face pairs (overrides target_index).",
    )
    output_format: OutputFormat = "png"
    metadata: dict[str, Any] | None = Field(
        default=None, description="Anything you like; echoed back on the task."
    )

    @model_validator(mode="after")
    def _indexes_in_range(self) -> Self:
        chosen = self.target_index
        indexes = chosen if isinstance(chosen, list) else [] if chosen == "all" else [chosen]
        if any(not 0 <= i <= 99 for i in indexes) or (isinstance(chosen, list) and not chosen):
            raise ValueError("target_index must be 0..99, a non-empty list of those, or 'all'")
        return self


class FaceFusionRequest(_Strict):
    """Blend the face of `source` (the donor) into the largest face of `target` (the
    template)."""

    source: ImageInput = Field(description="The donor: whose face is blended in.")
    target: ImageInput = Field(description="The template: the photo that is kept.")
    similarity: float = Field(
        ge=0.0,
        le=1.0,
        description="0 keeps the template's face, 1 gives the donor's face fully.",
    )
    output_format: OutputFormat = "png"
    metadata: dict[str, Any] | None = None


class VideoInput(_Strict):
    """A video given by URL (fetched by the server) or inline as base64."""

    url: str | None = Field(default=None, description="http(s) URL of an MP4/MOV, WebM/MKV or AVI.")
    base64: str | None = Field(default=None, description="Base64 bytes (a data: URI is fine).")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.url is None) == (self.base64 is None):
            raise ValueError("give exactly one of 'url' or 'base64'")
        return self


class VideoFaceSwapRequest(_Strict):
    """Put the face of `source` onto faces of `video`; the result is an H.264 MP4 with the
    video's frame timing and its audio kept."""

    source: ImageInput = Field(description="The image whose (largest) face is used.")
    video: VideoInput = Field(description="The video whose faces are replaced.")
    target_index: int | Literal["all"] | None = Field(
        default=None,
        description=(
            "Which face: an index (0, the default, is the largest face in the first frame "
            'that shows faces; that person is then followed), or "all" faces.'
        ),
    )
    reference_face: ImageInput | None = Field(
        default=None,
        description="Instead of target_index: swap only faces of the person in this image.",
    )
    metadata: dict[str, Any] | None = Field(
        default=None, description="Anything you like; echoed back on the task."
    )

    @model_validator(mode="after")
    def _one_selection(self) -> Self:
        if self.target_index is not None and self.reference_face is not None:
            raise ValueError("give target_index or reference_face, not both")
        if isinstance(self.target_index, int) and not 0 <= self.target_index <= 99:
            raise ValueError("target_index must be 0..99 or 'all'")
        return self


class FaceDetectRequest(_Strict):
    """Find every face in `image`."""

    image: ImageInput


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable, machine-readable error code.")
    message: str = Field(description="What went wrong, for humans.")


class ErrorBody(BaseModel):
    error: ErrorInfo


class FaceBox(BaseModel):
    x: int
    y: int
    width: int
    height: int


class DetectedFaceView(BaseModel):
    index: int = Field(description="The face's index as target_index counts (0 = largest).")
    box: FaceBox
    score: float
    landmarks: list[tuple[float, float]] | None = Field(
        description=(
            "Left eye, right eye, nose tip, left and right mouth corner (x, y), as seen in "
            "the image; null when the landmark model could not lock onto the face."
        )
    )


class ResultInfo(BaseModel):
    url: str | None = Field(default=None, description="Download link; expires at `expires_at`.")
    expires_at: datetime | None = None
    content_type: str | None = None
    faces: list[DetectedFaceView] | None = Field(
        default=None, description="Face detection: every face found, largest first."
    )


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
    video: VideoInfo | None = Field(
        default=None, description="Video tasks: the input video as probed (duration, size)."
    )


class TaskList(BaseModel):
    object: Literal["list"] = "list"
    data: list[TaskView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")
