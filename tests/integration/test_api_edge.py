"""What every answer carries and how the API's edge behaves: X-Request-Id (echoed or made,
and in the JSON logs), RateLimit-* on every answer to a keyed request, errors included,
the CORS preflight answered without a key, bare `Prefer: wait`, form bodies as JSON, and
the messages a new user meets (keys, private URLs, video holds)."""

from __future__ import annotations

import io
import json
import logging
import threading
from pathlib import Path
from typing import Any

import httpx

from faceport.adapters.local.gateway import with_authorizer
from faceport.adapters.local.http_server import make_server, to_proxy_event
from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.api.app import build_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.api.headers import with_api_headers, with_rate_limit
from faceport.logs import JsonFormatter
from faceport.settings import Settings
from tests.conftest import b64
from tests.support.api_client import Api, call, new_account
from tests.support.fakes import FakeEngine
from tests.support.images import astronaut_jpeg, grace_hopper_jpeg
from tests.support.video import ClipSpec, write_clip


def swap_body() -> dict[str, Any]:
    return {
        "source": {"base64": b64(astronaut_jpeg())},
        "target": {"base64": b64(grace_hopper_jpeg())},
    }


def test_request_ids_are_echoed_or_made(app: Api) -> None:
    mine = call(app, "GET", "/v1/account", headers={"X-Request-Id": "client-id-42"})
    assert mine.headers["x-request-id"] == "client-id-42"
    made = [call(app, "GET", "/v1/account").headers["x-request-id"] for _ in range(2)]
    assert made[0] != made[1] and len(made[0]) >= 16
    junk = call(app, "GET", "/v1/account", headers={"X-Request-Id": "bad id\twith spaces"})
    assert junk.headers["x-request-id"] != "bad id\twith spaces"
    refused = app.as_key("fpk_wrong")
    assert call(refused, "GET", "/v1/account").headers["x-request-id"]  # even on a 401


def test_rate_limit_headers_on_every_keyed_answer(
    settings: Settings, fake_engine: FakeEngine
) -> None:
    tight = settings.model_copy(update={"rate_limit_per_s": 1.0, "rate_limit_burst": 4})
    runtime = build_local_runtime(tight, engine=fake_engine)
    app = Api(runtime.services, new_account(runtime.accounts, runtime.accounts, 100))
    answers = [
        call(app, "GET", "/v1/account"),  # 200
        call(app, "POST", "/v1/face-swap", {"source": {}}),  # 422
        call(app, "GET", "/v1/tasks/task_nope"),  # 404
        call(app, "GET", "/v1/no-such-route"),  # 404 route_not_found
        call(app, "GET", "/v1/account"),  # 429
    ]
    assert [a.status for a in answers] == [200, 422, 404, 404, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["3", "2", "1", "0", "0"]
    assert all(a.headers["ratelimit-limit"] == "4" for a in answers)
    assert all(int(a.headers["ratelimit-reset"]) >= 1 for a in answers)
    assert answers[-1].headers["retry-after"] == "1"
    assert "ratelimit-limit" not in call(app.as_key("fpk_wrong"), "GET", "/v1/account").headers


def test_cors_preflight_is_answered_without_a_key(app: Api) -> None:
    preflight = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    reply = call(app.as_key(None), "OPTIONS", "/v1/face-swap", headers=preflight)
    assert reply.status == 204
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "POST" in reply.headers["access-control-allow-methods"]
    allowed = reply.headers["access-control-allow-headers"].lower()
    assert {"authorization", "prefer", "idempotency-key", "x-request-id"} <= set(allowed.split(","))
    answer = call(app, "GET", "/v1/account")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "RateLimit-Remaining" in answer.headers["access-control-expose-headers"]


def test_bare_prefer_wait_waits_up_to_the_cap(app: Api) -> None:
    reply = call(app, "POST", "/v1/face-swap", swap_body(), headers={"Prefer": "wait"})
    assert reply.status == 200 and reply.json()["status"] == "succeeded"
    assert reply.headers["preference-applied"] == "wait=60"


def test_non_json_bodies_are_invalid_json(app: Api, api_key: str) -> None:
    for content_type in (None, "application/x-www-form-urlencoded"):
        headers = [("Authorization", f"Bearer {api_key}")]
        headers += [("Content-Type", content_type)] if content_type else []
        event = to_proxy_event("POST", "/v1/face-swap", headers, b"source=a.jpg", "127.0.0.1")
        response = app.resolve(event, None)
        assert response["statusCode"] == 400, response
        assert json.loads(response["body"])["error"]["code"] == "invalid_json"
    # curl -d without -H: a JSON body sent as a form is read as JSON
    headers = [("Authorization", f"Bearer {api_key}")]
    headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    event = to_proxy_event("POST", "/v1/face-swap", headers, json.dumps(swap_body()).encode(), "x")
    assert app.resolve(event, None)["statusCode"] == 202


def test_messages_say_how_to_fix_it(settings: Settings, fake_engine: FakeEngine) -> None:
    strict = settings.model_copy(update={"allow_private_urls": False})
    runtime = build_local_runtime(strict, engine=fake_engine)
    app = Api(runtime.services, new_account(runtime.accounts, runtime.accounts, 100))
    wrong = call(app.as_key("fpk_0000000000000000_" + "x" * 40), "GET", "/v1/account")
    assert wrong.code == "invalid_api_key" and "faceport admin issue-key" in wrong.body
    body = swap_body() | {"source": {"url": "http://127.0.0.1:9/face.jpg"}}
    private = call(app, "POST", "/v1/face-swap", body)
    assert private.code == "url_not_allowed" and "FACEPORT_ALLOW_PRIVATE_URLS" in private.body
    junk = call(app, "POST", "/v1/face-swap", swap_body() | {"target": {"base64": b64(b"GIF89a")}})
    assert junk.code == "unsupported_media" and junk.json()["error"]["message"].startswith(
        "target:"
    )


def test_an_inline_video_is_held_for_its_own_length(runtime: LocalRuntime, tmp_path: Path) -> None:
    app = Api(runtime.services, new_account(runtime.accounts, runtime.accounts, 500))
    clip = write_clip(tmp_path / "two-seconds.mp4", ClipSpec(frames=30, fps=15, audio=False))
    inline = {
        "source": {"base64": b64(astronaut_jpeg())},
        "video": {"base64": b64(clip.read_bytes())},
    }
    accepted = call(app, "POST", "/v1/video-face-swap", inline)
    assert accepted.status == 202, accepted.body
    assert accepted.json()["price"] == 10  # 2 s at 2 credits/s, the minimum of 10
    by_url = {"source": inline["source"], "video": {"url": "http://127.0.0.1:9/clip.mp4"}}
    refused = call(app, "POST", "/v1/video-face-swap", by_url)
    assert (refused.status, refused.code) == (402, "insufficient_credits")
    message = refused.json()["error"]["message"]
    assert "holds 600 credits" in message and "up to 300 s" in message, message
    assert "available" in message


def test_the_json_logs_carry_the_request_id(runtime: LocalRuntime, api_key: str) -> None:
    lines = io.StringIO()
    capture = logging.StreamHandler(lines)
    capture.setFormatter(JsonFormatter())
    server_log = logging.getLogger("faceport.adapters.local.http_server")
    server_log.addHandler(capture)
    server_log.setLevel(logging.INFO)
    app = build_app(runtime.services)
    limited = with_rate_limit(app.resolve, runtime.services.rate_limiter, ROUTE_GROUPS)
    handler = with_api_headers(with_authorizer(limited, runtime.accounts, ROUTE_GROUPS))
    server = make_server("127.0.0.1", 0, handler, runtime.blobs, 1 << 20)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        headers = {"Authorization": f"Bearer {api_key}", "X-Request-Id": "trace-me-7"}
        reply = httpx.get(f"{url}/v1/account", headers=headers)
        own = httpx.get(f"{url}/files/nothing?expires=1&sig=x")  # answered by the server itself
    finally:
        server.shutdown()
        server.server_close()
        server_log.removeHandler(capture)
    assert reply.headers["x-request-id"] == "trace-me-7"
    assert own.status_code == 403 and own.headers["x-request-id"]
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    access = [r for r in records if "/v1/account" in r["message"]]
    assert access and access[0]["request_id"] == "trace-me-7" and access[0]["level"] == "INFO"
