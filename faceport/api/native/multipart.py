"""Multipart uploads on the native image routes: a `multipart/form-data` body becomes the
route's JSON body before routing, so one schema validates both. A file part becomes
`{"base64": ...}` under its field name; a text part is read as JSON when it parses
(`0`, `0.5`, `[0, 1]`, `{"k": "v"}`) and kept as a string otherwise (`png`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from faceport.api.multipart import body_bytes, parse_form
from faceport.errors import InvalidJson

# The routes whose inputs are images (video uploads stay JSON: a video is too big to
# base64 twice in memory).
IMAGE_ROUTES = frozenset({"/v1/face-swap", "/v1/face-fusion", "/v1/face-detect"})


def _text_value(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="strict")
    try:
        return json.loads(text)
    except ValueError:
        return text


def as_json_event(event: dict[str, Any]) -> dict[str, Any]:
    """`event` with a multipart body on an image route rewritten as the JSON body."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = str(headers.get("content-type") or "")
    if event.get("path") not in IMAGE_ROUTES or not content_type.startswith("multipart/"):
        return event
    body = body_bytes(event.get("body"), bool(event.get("isBase64Encoded")))
    try:
        parts = parse_form(body, content_type)
        text = json.dumps(
            {
                name: {"base64": base64.b64encode(data).decode()} if is_file else _text_value(data)
                for name, (data, is_file) in parts.items()
            }
        )
    except (UnicodeDecodeError, ValueError, InvalidJson):
        # This runs before the resolver's error handlers: a body that is not JSON makes
        # the route answer 400 invalid_json in its envelope.
        text = "(unreadable multipart/form-data)"
    rewritten = {k: v for k, v in event["headers"].items() if k.lower() != "content-type"}
    rewritten["Content-Type"] = "application/json"
    return {
        **event,
        "headers": rewritten,
        "multiValueHeaders": {k: [v] for k, v in rewritten.items()},
        "body": text,
        "isBase64Encoded": False,
    }
