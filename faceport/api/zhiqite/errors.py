"""Zhiqite's envelope `{"code": "<HTTP status>", "msg", "data": null}`, sent with that
status (../shared/DIALECTS.md section 2)."""

from __future__ import annotations

import json

from faceport.api.route_group import ErrorAnswer, client_status, error_headers
from faceport.errors import (
    FaceportError,
    IdempotencyKeyReused,
    NotFound,
    Unauthenticated,
)


def render_error(error: FaceportError) -> ErrorAnswer:
    """Zhiqite's answer to `error`."""
    status = 409 if isinstance(error, IdempotencyKeyReused) else client_status(error)
    message = error.message
    if isinstance(error, Unauthenticated):
        message = "invalid accessKeyId/accessKeySecret"
    elif isinstance(error, NotFound) and error.code == "not_found":
        message = "task not found"
    elif isinstance(error, IdempotencyKeyReused):
        message = "businessTaskId was used before with another request"
    body = {"code": str(status), "msg": message, "data": None}
    return ErrorAnswer(status, json.dumps(body), error_headers(error))
