"""Route groups: a dialect is one package (here a small one made in the test) registered
next to the native API. Every error on its paths, including those raised before any
handler runs (the authorizer's 401, an unknown route, the local server's body cap), comes
in its own envelope, and its tasks remember the dialect they came through."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from faceport import service
from faceport.adapters.local import http_server
from faceport.adapters.local.gateway import with_authorizer
from faceport.adapters.local.runtime import LocalRuntime
from faceport.api import native
from faceport.api.app import build_app
from faceport.api.groups import RouteGroups
from faceport.api.route_group import ErrorAnswer, RouteGroup
from faceport.auth import authorizer_response
from faceport.errors import FaceportError
from faceport.inputs import GivenInput
from faceport.service import Services, Submission
from faceport.tasks import Task, TaskParams
from tests.conftest import b64
from tests.support.api_client import call, new_account
from tests.support.events import load_event
from tests.support.tiny import tiny_image


def acme_error(error: FaceportError) -> ErrorAnswer:
    body = {"ok": False, "acme_code": error.status, "reason": error.code}
    return ErrorAnswer(error.status, json.dumps(body), {"Content-Type": "application/json"})


def acme_task(svc: Services, task: Task) -> dict[str, Any]:
    return {"job": task.id, "state": task.status.value}


def acme_router(svc: Services) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/acme/swap")  # type: ignore[untyped-decorator]
    def swap() -> Response[str]:
        image = {"base64": b64(tiny_image("PNG"))}
        submission = Submission(
            operation="face_swap",
            params=TaskParams(),
            inputs={"source": GivenInput(**image), "target": GivenInput(**image)},
            asked={"acme": True},
            dialect="acme",
        )
        task = service.submit(svc, router.context["caller"], submission)
        return Response(200, "application/json", json.dumps(svc.render_task(svc, task)))

    return router


ACME = RouteGroup(
    name="acme",
    prefixes=("/acme/",),
    router=acme_router,
    render_error=acme_error,
    render_task=acme_task,
)
GROUPS = RouteGroups((native.GROUP, ACME))


class Gated:
    def __init__(self, services: Services, api_key: str | None) -> None:
        self.services = replace(services, render_task=GROUPS.render_task)
        app = build_app(self.services, GROUPS)
        self.resolve = with_authorizer(app.resolve, services.accounts, GROUPS)
        self.api_key = api_key


@pytest.fixture
def key(runtime: LocalRuntime) -> str:
    return new_account(runtime.accounts, runtime.accounts, credits=100)


def test_a_dialect_path_without_a_key_gets_the_dialects_401(runtime: LocalRuntime) -> None:
    api = Gated(runtime.services, api_key=None)
    for path in ("/acme/swap", "/acme/no-such-route"):
        reply = call(api, "POST", path, {})
        assert reply.status == 401
        assert reply.json() == {"ok": False, "acme_code": 401, "reason": "missing_api_key"}
    reply = call(api, "POST", "/acme/swap", {}, headers={"Authorization": "Bearer fpk_x"})
    assert reply.json()["reason"] == "invalid_api_key"
    # The native API keeps its own envelope beside it.
    assert call(api, "GET", "/v1/tasks").code == "missing_api_key"


def test_a_dialect_path_answers_unknown_routes_in_its_envelope(
    runtime: LocalRuntime, key: str
) -> None:
    api = Gated(runtime.services, key)
    reply = call(api, "GET", "/acme/nothing-here")
    assert (reply.status, reply.json()["reason"]) == (404, "route_not_found")
    assert call(api, "GET", "/v1/nothing-here").code == "route_not_found"
    assert call(api, "GET", "/elsewhere").code == "route_not_found"  # the default group


def test_a_task_remembers_its_dialect(runtime: LocalRuntime, key: str) -> None:
    api = Gated(runtime.services, key)
    reply = call(api, "POST", "/acme/swap")
    assert reply.status == 200, reply.body
    job = reply.json()
    assert set(job) == {"job", "state"}
    stored = runtime.services.tasks.get(job["job"])
    assert stored is not None and stored.dialect == "acme"
    # One core: the native API shows the same task in the native shape.
    assert call(api, "GET", f"/v1/tasks/{job['job']}").json()["id"] == job["job"]
    native_task = call(api, "POST", "/v1/face-detect", {"image": {"base64": b64(tiny_image())}})
    stored = runtime.services.tasks.get(native_task.json()["id"])
    assert stored is not None and stored.dialect == "native"


def test_on_aws_a_dialects_refusal_reaches_the_api_lambda(runtime: LocalRuntime) -> None:
    event = load_event("authorizer/request")
    event["path"] = "/acme/swap"
    event["headers"] = {"Authorization": "Bearer fpk_0000000000000000_" + "A" * 40}
    answer = authorizer_response(event, runtime.accounts, GROUPS.gateway_denies)
    # Not a Deny: API Gateway's ACCESS_DENIED response would speak the native envelope.
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert "account_id" not in answer["context"]
    api_event = load_event("api/get_task")
    api_event["path"] = "/acme/swap"
    api_event["httpMethod"] = "POST"
    api_event["requestContext"]["authorizer"] = answer["context"]
    reply = build_app(runtime.services, GROUPS).resolve(api_event, None)
    assert reply["statusCode"] == 401
    assert json.loads(reply["body"])["reason"] == "invalid_api_key"
    # A native path is still refused by the gateway itself.
    event["path"] = "/v1/face-swap"
    denied = authorizer_response(event, runtime.accounts, GROUPS.gateway_denies)
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"


@pytest.fixture
def server(runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(http_server, "ROUTE_GROUPS", GROUPS)
    handler = Gated(runtime.services, None).resolve
    srv = http_server.make_server("127.0.0.1", 0, handler, runtime.blobs, max_body_bytes=100)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/acme/swap", {"ok": False, "acme_code": 413, "reason": "input_too_large"}),
        ("/v1/face-swap", {"error": {"code": "input_too_large"}}),
    ],
)
def test_the_local_body_cap_answers_in_the_paths_envelope(
    server: int, path: str, expected: dict[str, Any]
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request("POST", path, body=b"x" * 500, headers={"Content-Type": "text/plain"})
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 413
    if "error" in body:
        body["error"].pop("message")
    assert body == expected
