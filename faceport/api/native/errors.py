"""The native error envelope: `{"error": {"code", "message", "details"?}}`, for every error
on a native path, and API Gateway's own answers on AWS (gateway responses are one set per
API, so they speak the envelope of the group they answer for: this one)."""

from __future__ import annotations

import json
from typing import Any

from faceport.api.route_group import ErrorAnswer
from faceport.errors import FaceportError, InputTooLarge, MissingApiKey, RateLimited

# ACCESS_DENIED: the authorizer's Deny context carries the code and message (faceport.auth).
GATEWAY_ERROR_TEMPLATE = (
    '{"error": {"code": "$context.authorizer.error_code", '
    '"message": "$context.authorizer.error_message"}}'
)
# UNAUTHORIZED: API Gateway refused before calling the authorizer (no identity source).
GATEWAY_MISSING_KEY_BODY = json.dumps(
    {"error": {"code": MissingApiKey.code, "message": MissingApiKey.default_message}}
)
# API Gateway's own limit on a request body (a dialect's bigger uploads meet it too).
GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024


def render_error(error: FaceportError) -> ErrorAnswer:
    """The native answer to `error`, with `Retry-After` when it is a rate limit."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    headers = {"Content-Type": "application/json"}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_s)
    return ErrorAnswer(error.status, json.dumps({"error": body}, default=str), headers)


def gateway_responses() -> dict[str, ErrorAnswer]:
    """What API Gateway answers itself, by gateway response type (infra/api.py): the
    authorizer's refusal, a missing identity, a body over its limit, its throttling."""
    too_large = InputTooLarge(f"The request body is over {GATEWAY_MAX_BODY_BYTES} bytes.")
    return {
        "ACCESS_DENIED": ErrorAnswer(401, GATEWAY_ERROR_TEMPLATE),
        "UNAUTHORIZED": ErrorAnswer(401, GATEWAY_MISSING_KEY_BODY),
        "REQUEST_TOO_LARGE": render_error(too_large),
        "THROTTLED": render_error(RateLimited("Too many requests to this API; slow down.")),
    }
