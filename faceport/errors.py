"""The one error hierarchy of faceport.

Every error a client can see is a `FaceportError` with a stable `code` and an HTTP
`status`. The API maps these to responses in one place (`faceport.api.groups`); a workflow
step that raises one ends its task `failed` with the same code and message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from faceport.accounts import RateQuota


class FaceportError(Exception):
    """Base of every error with a stable, client-visible code."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Something went wrong on our side."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


# --- bad requests (4xx at submit time) -------------------------------------------------


class InvalidJson(FaceportError):
    code = "invalid_json"
    status = 400
    default_message = "The request body is not valid JSON."


class ValidationFailed(FaceportError):
    code = "validation_error"
    status = 422
    default_message = "The request does not match the schema."


class UnsupportedContentType(FaceportError):
    code = "unsupported_content_type"
    status = 415
    default_message = "Send the request body as application/json."


class LengthRequired(FaceportError):
    code = "length_required"
    status = 411
    default_message = "Send the request body with a Content-Length (no chunked encoding)."


class InvalidBase64(FaceportError):
    code = "invalid_base64"
    status = 400
    default_message = "A base64 input could not be decoded."


class UnsupportedMedia(FaceportError):
    code = "unsupported_media"
    status = 415
    default_message = "The input is not an image in a supported format (JPEG, PNG, WebP)."


class InputTooLarge(FaceportError):
    code = "input_too_large"
    status = 413
    default_message = "The input is larger than the allowed number of bytes."


class ImageTooLarge(FaceportError):
    code = "image_too_large"
    status = 413
    default_message = "The image has more pixels than allowed."


class UrlNotAllowed(FaceportError):
    code = "url_not_allowed"
    status = 400
    default_message = "The URL is not allowed (only public http and https addresses are)."


class NotifyUrlNotAllowed(UrlNotAllowed):
    code = "notify_url_not_allowed"
    default_message = "notify_url is not allowed (only public http and https addresses are)."


class UrlFetchFailed(FaceportError):
    code = "url_fetch_failed"
    status = 422
    default_message = "The URL could not be fetched."


class NotFound(FaceportError):
    code = "not_found"
    status = 404
    default_message = "No such resource."


class RouteNotFound(NotFound):
    code = "route_not_found"
    default_message = "No such route."


class TaskNotCancelable(FaceportError):
    code = "task_not_cancelable"
    status = 409
    default_message = "The task has already ended and cannot be canceled."


class NothingToRedeliver(FaceportError):
    code = "nothing_to_redeliver"
    status = 409
    default_message = "The task has no final event to send: it has not ended or has no notify_url."


class LinkExpired(FaceportError):
    code = "link_expired"
    status = 403
    default_message = "The download link has expired or its signature is wrong."


# --- accounts, keys and credits --------------------------------------------------------


class Unauthenticated(FaceportError):
    """Base of the 401s: no usable API key came with the request."""

    code = "unauthenticated"
    status = 401
    default_message = "Send an API key (e.g. `Authorization: Bearer <key>`)."


class MissingApiKey(Unauthenticated):
    code = "missing_api_key"
    default_message = (
        "No API key: send `Authorization: Bearer <key>` (or X-Api-Key, ailabapi-api-key, "
        "mj-api-secret, or the X-Request-req-accessKeyId/-accessKeySecret pair)."
    )


class InvalidApiKey(Unauthenticated):
    code = "invalid_api_key"
    default_message = (
        "The API key is not valid. Keys look like fpk_<id>_<secret>; an operator issues "
        "them (`faceport admin issue-key ACCOUNT`), and a local `faceport serve --dev` "
        "keeps one in DATA_DIR/dev-api-key."
    )


class RevokedApiKey(Unauthenticated):
    code = "revoked_api_key"
    default_message = (
        "The API key has been revoked; ask the operator for a new one "
        "(`faceport admin issue-key ACCOUNT`)."
    )


class InsufficientCredits(FaceportError):
    code = "insufficient_credits"
    status = 402
    default_message = "The account's available credits do not cover this request."


class IdempotencyKeyReused(FaceportError):
    code = "idempotency_key_reused"
    status = 422
    default_message = "This Idempotency-Key was used before with a different request body."


class IdempotencyKeyInProgress(FaceportError):
    code = "idempotency_key_in_progress"
    status = 409
    default_message = "A request with this Idempotency-Key is still being accepted; retry."


class InvalidIdempotencyKey(FaceportError):
    code = "invalid_idempotency_key"
    status = 400
    default_message = "An Idempotency-Key is 1 to 255 printable ASCII characters."


class RateLimited(FaceportError):
    """429; `retry_after_s` becomes the `Retry-After` header, `quota` (from the rate
    limiter) the `RateLimit-*` headers."""

    code = "rate_limited"
    status = 429
    default_message = "Too many requests for this API key; slow down."

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after_s: int = 1,
        quota: RateQuota | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.quota = quota


class TooManyConcurrentTasks(RateLimited):
    code = "too_many_concurrent_tasks"
    default_message = "This API key has as many unfinished tasks as it may; wait for one to end."


class AccountNotFound(NotFound):
    code = "account_not_found"
    default_message = "No such account."


# --- task failures (the task ends `failed` with this code) -----------------------------


class UnreadableImage(FaceportError):
    code = "unreadable_image"
    status = 422
    default_message = (
        "The image could not be decoded (it looks like a JPEG, PNG or WebP but its data is "
        "damaged or truncated); send a JPEG, PNG or WebP that opens in an image viewer."
    )


class NoFaceInSource(FaceportError):
    code = "no_face_in_source"
    status = 422
    default_message = "No face was found in the source image."


class NoFaceInTarget(FaceportError):
    code = "no_face_in_target"
    status = 422
    default_message = "No face was found in the target image."


class NoFaceInReference(FaceportError):
    code = "no_face_in_reference"
    status = 422
    default_message = "No face was found in the reference face image."


class TargetIndexOutOfRange(FaceportError):
    code = "target_index_out_of_range"
    status = 422
    default_message = "target_index is larger than the number of faces in the target."


class SourceIndexOutOfRange(FaceportError):
    code = "source_index_out_of_range"
    status = 422
    default_message = "A face map names a source face index larger than the faces in the source."


class InvalidFaceSelection(FaceportError):
    code = "invalid_face_selection"
    status = 422
    default_message = "The face selection is not valid (e.g. one target face mapped twice)."


class UnreadableVideo(FaceportError):
    code = "unreadable_video"
    status = 422
    default_message = (
        "The video could not be decoded (corrupt or truncated file, no video stream, or a "
        "codec we cannot read)."
    )


class VideoTooLong(FaceportError):
    code = "video_too_long"
    status = 422
    default_message = "The video is longer than the allowed duration."


class VideoResolutionTooHigh(FaceportError):
    code = "video_resolution_too_high"
    status = 422
    default_message = "The video has more pixels per frame than allowed."


class TaskCanceled(FaceportError):
    """Work stopped because its task was canceled; the task already says so."""

    code = "task_canceled"
    status = 409
    default_message = "The task was canceled."


class WorkerLost(FaceportError):
    code = "worker_lost"
    status = 500
    default_message = "The task was interrupted too many times and was given up."


class EngineTimeout(FaceportError):
    code = "engine_timeout"
    status = 504
    default_message = "The engine did not finish (or report progress) in time."


class EngineFailed(FaceportError):
    code = "engine_error"
    status = 502
    default_message = "The engine failed on this task."


class OperationNotAvailable(FaceportError):
    """No backend of this deployment runs the operation: refused at submit, nothing held."""

    code = "operation_not_available"
    status = 422
    default_message = "This operation is not available on this deployment."


# --- robustness: what the HTTP layer and the stores refuse or set aside -----------------


class BadRequest(FaceportError):
    code = "bad_request"
    status = 400
    default_message = "The request is not valid HTTP/1.1."


class RequestTimeout(FaceportError):
    code = "request_timeout"
    status = 408
    default_message = "The request did not arrive in time."


class MethodNotAllowed(FaceportError):
    code = "method_not_allowed"
    status = 405
    default_message = "This HTTP method is not supported."


class HeadersTooLarge(FaceportError):
    code = "headers_too_large"
    status = 431
    default_message = "The request's header lines are too large."


class ServerBusy(FaceportError):
    code = "server_busy"
    status = 503
    default_message = "The server has too many open connections; try again in a moment."


class TaskUnreadable(FaceportError):
    """A stored task that cannot be parsed; it fails alone with this code."""

    code = "task_unreadable"
    status = 500
    default_message = "The task was stored in a form that can no longer be read; it was failed."


class EnhanceNotAvailable(FaceportError):
    code = "enhance_not_available"
    status = 422
    default_message = (
        "enhance needs the neural engine with a face restorer (GFPGANv1.4.onnx in the model "
        "directory); this deployment has none."
    )


# --- configuration (refused at start, never at request time) ---------------------------


class InvalidModelDir(FaceportError):
    code = "invalid_model_dir"
    status = 500
    default_message = "The model directory cannot be used."


class AwsSetupError(FaceportError):
    """The AWS side of `admin --stack` cannot work as configured (region, credentials)."""

    code = "aws_setup"
    status = 400


def error_for_code(code: str, message: str | None = None) -> FaceportError:
    """Our error class for `code` (`EngineFailed` for a code we do not know)."""
    return _ERRORS_BY_CODE.get(code, EngineFailed)(message)


def _subclasses(cls: type[FaceportError]) -> list[type[FaceportError]]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]


_ERRORS_BY_CODE: dict[str, type[FaceportError]] = {c.code: c for c in _subclasses(FaceportError)}
