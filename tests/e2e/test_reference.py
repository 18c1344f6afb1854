"""The API reference works: /openapi.json is valid, declares its headers, error codes and
version, and every request example in it succeeds against the session's real server
(offline: the examples carry their images inline)."""

from __future__ import annotations

import json
import time
from importlib.metadata import version
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.e2e.test_serve import Server
from tests.sdk.conftest import new_key

TERMINAL = {"succeeded", "failed", "canceled"}


@pytest.fixture(scope="module")
def spec(live_server: Server) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{live_server.url}/openapi.json").json()
    return document


def examples_of(spec: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            for name, example in (body or {}).get("examples", {}).items():
                found.append((method, path, name, example["value"]))
    return found


def test_the_document_is_complete(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["info"]["version"] == version("faceport")
    assert "Authorization: Bearer" in spec["info"]["description"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            where = f"{method} {path}"
            if "requestBody" in operation:
                content = operation["requestBody"]["content"]["application/json"]
                assert content.get("examples"), f"{where} has no request example"
            names = {p["name"] for p in operation.get("parameters", [])}
            assert "X-Request-Id" in names, where
            if path in ("/v1/face-swap", "/v1/face-fusion", "/v1/video-face-swap"):
                assert {"Prefer", "Idempotency-Key"} <= names, where
            responses = operation["responses"]
            assert "401" in responses and "429" in responses, where
            assert "`invalid_api_key`" in responses["401"]["description"], where
            assert "Retry-After" in responses["429"]["headers"], where
            for status, response in responses.items():
                assert "X-Request-Id" in response["headers"], (where, status)
                assert "RateLimit-Remaining" in response["headers"], (where, status)
    swap = spec["paths"]["/v1/face-swap"]["post"]
    assert "`insufficient_credits`" in swap["responses"]["402"]["description"]
    assert "`no_face_in_source`" in swap["description"]
    assert set(spec["components"]["headers"]) >= {"RateLimit-Limit", "Retry-After", "Location"}
    assert '"url": "string"' not in json.dumps(spec)


def test_examples_match_their_schemas(spec: dict[str, Any]) -> None:
    found = examples_of(spec)
    assert len(found) >= 7
    for method, path, name, value in found:
        schema = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
        root = {**schema["schema"], "components": spec["components"]}
        errors = [e.message for e in jsonschema.Draft202012Validator(root).iter_errors(value)]
        assert not errors, (path, name, errors)


def test_every_example_succeeds_against_the_server(
    spec: dict[str, Any], live_server: Server
) -> None:
    key = new_key(live_server, 1_000)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=60) as api:
        for method, path, name, value in examples_of(spec):
            reply = api.request(method.upper(), path, json=value)
            assert reply.status_code < 400, (path, name, reply.text)
            body = reply.json()
            if body.get("object") != "task":
                continue
            deadline = time.monotonic() + 60
            while body["status"] not in TERMINAL and time.monotonic() < deadline:
                time.sleep(0.2)
                body = api.get(f"/v1/tasks/{body['id']}").json()
            assert body["status"] == "succeeded", (path, name, body)


def test_swagger_ui_shows_the_completed_document(live_server: Server) -> None:
    page = httpx.get(f"{live_server.url}/docs").text
    assert "faceSwap" in page and "RateLimit-Remaining" in page
