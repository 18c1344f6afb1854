"""AILabTools' public response fields: `error_code` equal to the HTTP status,
`error_detail.code` one of the family's codes (../shared/DIALECTS.md section 5)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from faceport.api.route_group import ErrorAnswer, client_status, error_headers
from faceport.errors import (
    FaceportError,
    InsufficientCredits,
    NoFaceInSource,
    NoFaceInTarget,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)


class MissingParameters(ValidationFailed):
    """A required multipart field is absent."""

    code = "missing_parameters"


class NotMultipart(ValidationFailed):
    code = "not_multipart"
    default_message = "Send the request as multipart/form-data."


class ProcessingFailure(FaceportError):
    """The fusion did not end within the wait: a faceport fault."""

    code = "processing_failure"
    status = 503
    default_message = "The fusion did not finish in time; it was canceled and not charged."


def _detail(error: FaceportError) -> tuple[int, str, str]:
    """(HTTP status, error_detail.code, code_message) of `error`."""
    if isinstance(error, Unauthenticated):
        return 401, "ERROR_APPLICATIONS_NOT_EXISTS", "The application does not exist."
    if isinstance(error, InsufficientCredits):
        return 429, "ERROR_NOT_ENOUGH_CREDITS", "Not enough credits."
    if isinstance(error, RateLimited):
        return 429, "ERROR_RATE_LIMIT", "Too many requests."
    if isinstance(error, (NoFaceInSource, NoFaceInTarget)):
        return 422, "ERROR_NO_FACE_IN_FILE", "No face detected in the file."
    if isinstance(error, MissingParameters):
        return 400, "MISSING_PARAMETERS", "Missing parameters."
    if isinstance(error, NotMultipart):
        return 400, "ERROR_PARAMETERS", "Parameter error."
    status = client_status(error)
    if status >= 500:
        return status, "PROCESSING_FAILURE", "Processing failure."
    return status, "ERROR_INVALID_PARAMETER", "Invalid parameter."


def envelope(status: int, code: str, code_message: str, message: str) -> dict[str, Any]:
    """The public response fields every answer carries."""
    request_id = str(uuid.uuid4())
    return {
        "request_id": request_id,
        "log_id": request_id.replace("-", "")[:16],
        "error_code": 0 if status == 200 else status,
        "error_code_str": "",
        "error_msg": message,
        "error_detail": {
            "status_code": status,
            "code": code,
            "code_message": code_message,
            "message": message,
        },
    }


def error_body(error: FaceportError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body AILabTools answers `error` with (no `data`)."""
    status, code, code_message = _detail(error)
    return status, envelope(status, code, code_message, error.message)


def render_error(error: FaceportError) -> ErrorAnswer:
    """AILabTools' answer to `error`."""
    status, body = error_body(error)
    return ErrorAnswer(status, json.dumps(body), error_headers(error))
