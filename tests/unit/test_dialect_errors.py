"""Every error a dialect route can produce, through each dialect's one renderer (the same
call renders them on both shapes): its envelope, its status, never a 5xx for a client
mistake, and `Retry-After` on a rate limit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from faceport.api.groups import ROUTE_GROUPS
from faceport.errors import (
    FaceportError,
    InputTooLarge,
    InsufficientCredits,
    InvalidJson,
    MissingApiKey,
    NotFound,
    RateLimited,
    RouteNotFound,
    TooManyConcurrentTasks,
    UnsupportedContentType,
    ValidationFailed,
)

PATHS = {
    "apiinone": "/api/v1/images/tools/face-swap",
    "zhiqite": "/AIGCImgOpenServ/saas/tool/roop",
    "mjproxy": "/mj/insight-face/swap",
    "heygen": "/v1/workflows/executions",
    "ailab": "/api/portrait/effects/face-fusion",
}
MISTAKES: list[tuple[FaceportError, int]] = [
    (MissingApiKey(), 401),
    (InputTooLarge(), 413),
    (RateLimited(retry_after_s=3), 429),
    (TooManyConcurrentTasks(retry_after_s=3), 429),
    (ValidationFailed("bad", fields=[{"field": "body.image", "problem": "x"}]), 400),
    (InvalidJson(), 400),
    (UnsupportedContentType(), 400),
    (NotFound(), 404),
    (RouteNotFound(), 404),
]
# Where a dialect's table says otherwise (../shared/DIALECTS.md).
EXCEPTIONS = {("mjproxy", 402): 400, ("ailab", 402): 429}


def shape(dialect: str, body: dict[str, Any], status: int) -> None:
    if dialect == "apiinone":
        assert set(body["error"]) == {"code", "message", "type"} and body["error"]["code"] == status
    elif dialect == "zhiqite":
        assert body["code"] == str(status) and body["data"] is None and body["msg"]
    elif dialect == "mjproxy":
        assert set(body) == {"code", "description", "result", "properties"}
        assert body["code"] in (3, 4, 23) and body["result"] is None
    elif dialect == "heygen":
        assert isinstance(body["error"]["code"], str) and body["error"]["message"]
    else:
        assert body["error_code"] == status == body["error_detail"]["status_code"]
        assert body["error_detail"]["code"] and "data" not in body


@pytest.mark.parametrize("dialect", sorted(PATHS))
@pytest.mark.parametrize(("error", "status"), MISTAKES, ids=lambda e: type(e).__name__)
def test_every_client_mistake_is_a_4xx_in_the_dialects_envelope(
    dialect: str, error: FaceportError, status: int
) -> None:
    answer = ROUTE_GROUPS.render_error(PATHS[dialect], error)
    assert answer.status == status
    body = json.loads(answer.body)
    shape(dialect, body, status)
    assert "error" not in body or dialect in ("apiinone", "heygen")  # not the native one
    if isinstance(error, RateLimited):
        assert answer.headers["Retry-After"] == "3"


@pytest.mark.parametrize("dialect", sorted(PATHS))
def test_short_credits(dialect: str) -> None:
    answer = ROUTE_GROUPS.render_error(PATHS[dialect], InsufficientCredits())
    status = EXCEPTIONS.get((dialect, 402), 402)
    assert answer.status == status
    shape(dialect, json.loads(answer.body), status)


def test_heygen_names_the_bad_field() -> None:
    error = ValidationFailed("bad", fields=[{"field": "body.input.source_image_url"}])
    body = json.loads(ROUTE_GROUPS.render_error(PATHS["heygen"], error).body)
    assert body["error"] == {
        "code": "invalid_parameter",
        "message": "bad",
        "param": "input.source_image_url",
    }
