"""Call the API resolver in-process with the same proxy events the local server makes,
behind the same local authorizer step."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from faceport.adapters.local.gateway import local_edge
from faceport.adapters.local.http_server import to_proxy_event
from faceport.api.app import build_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.ports import AccountStore, Ledger
from faceport.service import Services


class Resolver(Protocol):
    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]: ...


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


class Api:
    """The API as a client with `api_key` sees it (`Authorization: Bearer`), unless a call
    brings its own key header."""

    def __init__(self, services: Services, api_key: str | None) -> None:
        app = build_app(services)
        self._gated = local_edge(
            app.resolve, services.accounts, services.rate_limiter, ROUTE_GROUPS
        )
        self.api_key = api_key

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return self._gated(event, context)

    def as_key(self, api_key: str | None) -> Api:
        """The same API, called with another key."""
        other = Api.__new__(Api)
        other.__dict__.update(self.__dict__, api_key=api_key)
        return other


def new_account(store: AccountStore, ledger: Ledger, credits: int, name: str = "test") -> str:
    """A funded account; returns its first API key."""
    account = store.create_account(name)
    if credits:
        ledger.top_up(account.id, credits, "initial")
    return store.issue_key(account.id).token


def call(
    app: Resolver,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    raw_bytes = raw.encode() if isinstance(raw, str) else (raw or b"")
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    api_key = getattr(app, "api_key", None)
    if api_key is not None and not any(_is_key_header(name) for name in all_headers):
        all_headers["Authorization"] = f"Bearer {api_key}"
    event = to_proxy_event(method, path, list(all_headers.items()), raw_bytes, "127.0.0.1")
    response = app.resolve(event, None)
    merged = {k.lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        merged.setdefault(name.lower(), str(values[-1]))
    return Reply(response["statusCode"], merged, response.get("body") or "")


def _is_key_header(name: str) -> bool:
    return name.lower() in {
        "authorization",
        "x-api-key",
        "ailabapi-api-key",
        "mj-api-secret",
        "x-request-req-accesskeyid",
        "x-request-req-accesskeysecret",
    }
