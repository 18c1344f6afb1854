"""HeyGen's error envelope `{"error": {"code", "message", "param"?}}` with HeyGen's code
vocabulary (heygen-cli internal/errors/codes.go); see ../shared/DIALECTS.md section 4."""

from __future__ import annotations

import json
from typing import Any

from faceport.api.route_group import ErrorAnswer, bad_field, client_status, error_headers
from faceport.errors import FaceportError

_CODES = {
    400: "invalid_parameter",
    401: "unauthorized",
    402: "insufficient_credit",
    404: "not_found",
    413: "payload_too_large",
    429: "rate_limit_exceeded",
}


def render_error(error: FaceportError) -> ErrorAnswer:
    """HeyGen's answer to `error`: a 4xx for every client mistake."""
    status = client_status(error)
    body: dict[str, Any] = {"code": _CODES.get(status, error.code), "message": error.message}
    if status == 400 and (param := bad_field(error)):
        body["param"] = param
    return ErrorAnswer(status, json.dumps({"error": body}), error_headers(error))
