"""API in One's envelope `{"error": {"code": <HTTP status>, "message", "type"}}`
(../shared/DIALECTS.md section 1)."""

from __future__ import annotations

import json

from faceport.api.route_group import ErrorAnswer, client_status, error_headers
from faceport.errors import FaceportError, NotFound, Unauthenticated

_TYPES = {
    401: "authentication_error",
    402: "insufficient_credits_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def render_error(error: FaceportError) -> ErrorAnswer:
    """API in One's answer to `error`."""
    status = client_status(error)
    kind = _TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
    message = error.message
    if isinstance(error, Unauthenticated):
        message = "Invalid API key"
    elif isinstance(error, NotFound) and error.code == "not_found":
        message = "Task not found"
    body = {"error": {"code": status, "message": message, "type": kind}}
    return ErrorAnswer(status, json.dumps(body), error_headers(error))
