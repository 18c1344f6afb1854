"""The native API's request and response bodies (also the OpenAPI schema's source)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from faceport import bounds
from faceport.accounts import Usage
from faceport.tasks import FaceMapEntry, OutputFormat, TargetSelection, TaskStatus, VideoInfo
from faceport.webhooks import DeliveryStatus

# Long enough for any real link; a URL is stored on the task, whose item has a size limit.
MAX_URL_CHARS = 2048

# Every submit takes one (the seed dialects map theirs, e.g. `notifyHook`, onto it).
NotifyUrl = Annotated[
    str | None,
    Field(
        max_length=MAX_URL_CHARS,
        description=(
            "Public http(s) URL that gets a signed `task.succeeded`, `task.failed` or "
            "`task.canceled` event (Standard Webhooks) when the task ends."
        ),
    ),
]

# Free-form, but bounded so that it can always be stored and read back (faceport.bounds).
Metadata = Annotated[
    dict[str, Any],
    AfterValidator(bounds.check_metadata),
    Field(
        description=(
            "Anything you like; echoed back on the task. At most "
            f"{bounds.MAX_METADATA_BYTES} bytes as JSON, {bounds.MAX_METADATA_DEPTH} levels "
            f"deep, {bounds.MAX_METADATA_KEYS} keys."
        )
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _UrlOrBase64(_Strict):
    url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    base64: str | None = Field(default=None, description="Base64 bytes (a data: URI is fine).")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.url is None) == (self.base64 is None):
            raise ValueError("give exactly one of 'url' or 'base64'")
        return self


ENHANCE_DESCRIPTION = (
    "Run the face restorer on each swapped face (the neural engine with GFPGANv1.4.onnx; "
    "elsewhere the task fails with enhance_not_available)."
)


class ImageInput(_UrlOrBase64):
    """An image given by URL (fetched by the server) or inline as base64."""

    url: str | None = Field(
        default=None, max_length=MAX_URL_CHARS, description="http(s) URL of a JPEG, PNG or WebP."
    )


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
    enhance: bool = Field(default=False, description=ENHANCE_DESCRIPTION)
    metadata: Metadata | None = None
    notify_url: NotifyUrl = None

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
    metadata: Metadata | None = None
    notify_url: NotifyUrl = None


class VideoInput(_UrlOrBase64):
    """A video given by URL (fetched by the server) or inline as base64."""

    url: str | None = Field(
        default=None,
        max_length=MAX_URL_CHARS,
        description="http(s) URL of an MP4/MOV, WebM/MKV or AVI.",
    )


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
    enhance: bool = Field(default=False, description=ENHANCE_DESCRIPTION)
    metadata: Metadata | None = None
    notify_url: NotifyUrl = None

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
    notify_url: NotifyUrl = None


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
    index: int = Field(
        description=(
            "The face's index as target_index counts: 0 = largest, by the area of the "
            "box around its landmarks."
        )
    )
    box: FaceBox
    score: float = Field(ge=0, le=1, description="Probability that this is a face, 0..1.")
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
    price: int = Field(description="Credits: charged if the task succeeds, else nothing.")
    result: ResultInfo | None
    error: ErrorInfo | None
    video: VideoInfo | None = Field(
        default=None, description="Video tasks: the input video as probed (duration, size)."
    )


class TaskList(BaseModel):
    object: Literal["list"] = "list"
    data: list[TaskView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class DeliveryAttemptView(BaseModel):
    number: int = Field(description="1 for the first try of the event, counting redeliveries.")
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null if none came.")
    latency_ms: int
    error: str | None = Field(description="Why no status came (timeout, connection refused...).")


class DeliveryView(BaseModel):
    """One event of a task and every try to deliver it."""

    event_id: str = Field(description="The `webhook-id` header: the same on every try.")
    type: str
    url: str
    status: DeliveryStatus = Field(
        description=(
            "pending: a try is due; delivered: a 2xx came; gone: the receiver answered 410; "
            "dead: out of tries or the URL is no longer allowed (redeliver to try again)."
        )
    )
    next_attempt_at: datetime | None
    attempts: list[DeliveryAttemptView]


class DeliveryList(BaseModel):
    object: Literal["list"] = "list"
    data: list[DeliveryView]


class SigningSecretView(BaseModel):
    secret: str = Field(description="`whsec_` + base64: give it to `standardwebhooks.Webhook`.")
    created_at: datetime
    expires_at: datetime | None = Field(description="Set once a rotation replaced it.")


class SigningSecrets(BaseModel):
    """The account's webhook signing secrets, newest first; every one listed signs."""

    object: Literal["webhook_signing_secrets"] = "webhook_signing_secrets"
    current: str
    secrets: list[SigningSecretView]


class RotateSecretRequest(_Strict):
    grace_period_s: int | None = Field(
        default=None,
        ge=0,
        le=7 * 24 * 3600,
        description="How long the old secrets keep signing (default: the server's setting).",
    )


class AccountView(BaseModel):
    """The caller's account. `available` = `balance` - `reserved` (credits held for
    unfinished tasks); `usage` counts charged (succeeded) tasks by operation."""

    id: str
    object: Literal["account"] = "account"
    name: str
    balance: int
    reserved: int
    available: int
    usage: dict[str, Usage]
    key_id: str | None = Field(description="The API key this request came with.")
