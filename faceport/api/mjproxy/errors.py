"""MJ-proxy's SubmitResultVO envelope `{"code", "description", "result": null,
"properties": {}}` (../shared/DIALECTS.md section 3): code 4 for a bad request, 3 for not
found, 23 for a full queue, 9 for a faceport fault."""

from __future__ import annotations

import json

from faceport.api.route_group import ErrorAnswer, client_status, error_headers
from faceport.errors import (
    FaceportError,
    ImageTooLarge,
    InputTooLarge,
    InsufficientCredits,
    InvalidBase64,
    NotFound,
    RateLimited,
    Unauthenticated,
    UnsupportedMedia,
)

NOT_FOUND, VALIDATION, QUEUE_FULL, SYSTEM = 3, 4, 23, 9


def _described(error: FaceportError) -> tuple[int, int, str]:
    """(HTTP status, code, description) of `error`."""
    if isinstance(error, Unauthenticated):
        return 401, VALIDATION, "invalid api key"
    if isinstance(error, RateLimited):
        return 429, QUEUE_FULL, error.message
    if isinstance(error, InsufficientCredits):
        return 400, VALIDATION, "quota_not_enough"
    if isinstance(error, NotFound):
        return 404, NOT_FOUND, "task not found" if error.code == "not_found" else error.message
    if isinstance(error, (InvalidBase64, UnsupportedMedia)):
        return 400, VALIDATION, "人脸图片格式错误"
    if isinstance(error, (InputTooLarge, ImageTooLarge)):
        return 413, VALIDATION, "人脸图片大小超过最大限制"
    status = client_status(error)
    return status, VALIDATION if status < 500 else SYSTEM, error.message


def render_error(error: FaceportError) -> ErrorAnswer:
    """MJ-proxy's answer to `error`."""
    status, code, description = _described(error)
    body = {"code": code, "description": description, "result": None, "properties": {}}
    return ErrorAnswer(status, json.dumps(body, ensure_ascii=False), error_headers(error))
