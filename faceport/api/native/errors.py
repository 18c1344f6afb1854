"""The native error envelope: `{"error": {"code", "message", "details"?}}`, for every error
on a native path, and as API Gateway's gateway responses render it on AWS."""

from __future__ import annotations

import json
from typing import Any

from faceport.api.route_group import ErrorAnswer
from faceport.errors import FaceportError, MissingApiKey, RateLimited

# ACCESS_DENIED: the authorizer's Deny context carries the code and message (faceport.auth).
GATEWAY_ERROR_TEMPLATE = (
    '{"error": {"code": "$context.authorizer.error_code", '
    '"message": "$context.authorizer.error_message"}}'
)
# UNAUTHORIZED: API Gateway refused before calling the authorizer (no identity source).
GATEWAY_MISSING_KEY_BODY = json.dumps(
    {"error": {"code": MissingApiKey.code, "message": MissingApiKey.default_message}}
)


def render_error(error: FaceportError) -> ErrorAnswer:
    """The native answer to `error`, with `Retry-After` when it is a rate limit."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    headers = {"Content-Type": "application/json"}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_s)
    return ErrorAnswer(error.status, json.dumps({"error": body}, default=str), headers)
