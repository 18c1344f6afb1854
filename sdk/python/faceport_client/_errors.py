"""One exception class per family of the API's error codes, all under `FaceportError`.

A 4xx/5xx answer becomes the class of its HTTP status (`code` keeps the exact code, e.g.
`insufficient_credits`); a task that ends `failed` raises `TaskFailedError` with the task's
error code (e.g. `no_face_in_source`)."""

from __future__ import annotations

from typing import Any

from faceport_client._models import Task


class FaceportError(Exception):
    """Base of every error the client raises: `code`, `message`, and where known the HTTP
    `status` and the server's `request_id`."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.details = details or {}


class ConnectionFailed(FaceportError):
    """The server could not be reached or dropped the connection (after the retries)."""


class InvalidRequestError(FaceportError):
    """400, 411, 413, 415, 422: the request is malformed, too large or not valid."""


class AuthenticationError(FaceportError):
    """401: no API key, an unknown one or a revoked one."""


class InsufficientCreditsError(FaceportError):
    """402: the account's available credits do not cover the task."""


class PermissionDeniedError(FaceportError):
    """403: e.g. an expired download link."""


class NotFoundError(FaceportError):
    """404: no such task, account or route."""


class ConflictError(FaceportError):
    """409: e.g. a task that has already ended cannot be canceled."""


class RateLimitError(FaceportError):
    """429: over the key's request rate or unfinished-task limit; `retry_after_s` says
    when to try again."""

    def __init__(self, code: str, message: str, *, retry_after_s: float = 1.0, **kw: Any) -> None:
        super().__init__(code, message, **kw)
        self.retry_after_s = retry_after_s


class ServerError(FaceportError):
    """5xx: the server failed; retried automatically where that is safe."""


class TaskFailedError(FaceportError):
    """The task ended `failed`; `code` is its error code, `task` the task."""

    def __init__(self, task: Task) -> None:
        error = task.error
        super().__init__(
            error.code if error else "task_failed",
            error.message if error else "The task failed.",
        )
        self.task = task


class TaskCanceledError(FaceportError):
    """The task was canceled before it finished."""

    def __init__(self, task: Task) -> None:
        super().__init__("task_canceled", f"Task {task.id} was canceled.")
        self.task = task


class WaitTimeout(FaceportError):
    """The task did not end within the time the caller was willing to wait."""

    def __init__(self, task: Task, waited_s: float) -> None:
        super().__init__(
            "wait_timeout", f"Task {task.id} is still {task.status} after {waited_s:.0f} s."
        )
        self.task = task


class WebhookVerificationError(FaceportError):
    """A webhook delivery's signature or timestamp did not check out."""


_BY_STATUS: dict[int, type[FaceportError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    411: InvalidRequestError,
    413: InvalidRequestError,
    415: InvalidRequestError,
    422: InvalidRequestError,
}


def error_for(status: int, body: Any, headers: Any) -> FaceportError:
    """The exception for an error answer (the API's `{"error": {...}}` envelope)."""
    info = body.get("error") if isinstance(body, dict) else None
    info = info if isinstance(info, dict) else {}
    code = str(info.get("code") or f"http_{status}")
    message = str(info.get("message") or f"The server answered HTTP {status}.")
    extra: dict[str, Any] = {
        "status": status,
        "request_id": headers.get("x-request-id"),
        "details": info.get("details"),
    }
    if status == 429:
        return RateLimitError(
            code, message, retry_after_s=_seconds(headers.get("retry-after")), **extra
        )
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else InvalidRequestError)
    return cls(code, message, **extra)


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value or 1))
    except ValueError:
        return 1.0
