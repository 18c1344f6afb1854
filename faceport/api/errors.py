"""Where errors become HTTP responses: the one mapping from the error hierarchy to JSON."""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from faceport.errors import (
    FaceportError,
    InvalidJson,
    RateLimited,
    ValidationFailed,
)

logger = logging.getLogger(__name__)


def error_response(error: FaceportError) -> Response[str]:
    """The native envelope: `{"error": {"code", "message", "details"?}}`."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    headers = {"Retry-After": str(error.retry_after_s)} if isinstance(error, RateLimited) else None
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": body}, default=str),
        headers=headers,
    )


def from_validation_error(exc: RequestValidationError) -> FaceportError:
    """Turn Powertools' validation report into one of our errors with a readable message."""
    problems = list(exc.errors())
    kinds = {str(p.get("type")) for p in problems}
    if "json_invalid" in kinds:
        return InvalidJson()
    fields = [
        {"field": ".".join(str(part) for part in p.get("loc", ())), "problem": p.get("msg")}
        for p in problems
    ]
    summary = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
    return ValidationFailed(f"The request does not match the schema: {summary}.", fields=fields)


def unexpected_error(exc: Exception) -> Response[str]:
    logger.exception("unhandled error", exc_info=exc)
    return error_response(FaceportError())
