"""Call the API resolver in-process with the same proxy events the local server makes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from faceport.adapters.local.http_server import to_proxy_event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str:
        return str(self.json()["error"]["code"])


def call(
    app: APIGatewayRestResolver,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    raw_bytes = raw.encode() if isinstance(raw, str) else (raw or b"")
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    event = to_proxy_event(method, path, list(all_headers.items()), raw_bytes, "127.0.0.1")
    response = app.resolve(event, None)
    merged = {k.lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        merged.setdefault(name.lower(), str(values[-1]))
    return Reply(response["statusCode"], merged, response.get("body") or "")
