"""The headers every API answer carries, whatever route or error produced it:
`X-Request-Id` (the client's own when it sent a sane one), `RateLimit-Limit/-Remaining/
-Reset` for a request counted against a key, and CORS; plus the CORS preflight, answered
before the authorizer as API Gateway answers it (see docs/ARCHITECTURE.md, "Headers").

The request id and quota of the request being handled live in a context variable, so the
JSON logs (`faceport.logs`) can stamp every line with the request id."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from faceport.accounts import RateQuota
from faceport.api.groups import RouteGroups
from faceport.auth import caller_from_event
from faceport.errors import RateLimited, Unauthenticated
from faceport.ports import RateLimiter

ProxyHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

REQUEST_ID = "X-Request-Id"
# Headers browsers may send cross-origin (infra/api.py gives API Gateway the same list).
CORS_ALLOW_HEADERS = (
    "Content-Type",
    "Authorization",
    "X-Api-Key",
    "Prefer",
    "Idempotency-Key",
    "X-Request-Id",
)
CORS_ALLOW_METHODS = ("GET", "POST", "OPTIONS")
CORS_MAX_AGE_S = 3600
# What a browser script may read from an answer.
_EXPOSED = (
    "X-Request-Id",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "Location",
    "Preference-Applied",
)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


@dataclass
class _Current:
    request_id: str
    quota: RateQuota | None = None


_current: ContextVar[_Current | None] = ContextVar("faceport_request", default=None)


def current_request_id() -> str | None:
    """The id of the request this thread is handling (None outside a request)."""
    state = _current.get()
    return state.request_id if state else None


def with_rate_limit(
    handler: ProxyHandler, limiter: RateLimiter, groups: RouteGroups
) -> ProxyHandler:
    """`handler` behind the per-key request rate: it runs after the authorizer (it reads the
    key the authorizer put on the event) and before the resolver, so that every answer to
    a keyed request, a validation error or an unknown route included, is counted and
    carries the `RateLimit-*` headers; over the rate it is a 429 with `Retry-After`."""

    def counted(event: dict[str, Any], context: Any) -> dict[str, Any]:
        path = event.get("path") or "/"
        if groups.needs_api_key(path):
            try:
                caller = caller_from_event(event)
            except Unauthenticated:
                return handler(event, context)  # the resolver refuses it (fails closed)
            if caller.key_id is not None:
                try:
                    _note(limiter.acquire(caller.key_id))
                except RateLimited as exc:
                    _note(exc.quota)
                    return groups.render_error(path, exc).proxy()
        return handler(event, context)

    return counted


def _note(quota: RateQuota | None) -> None:
    state = _current.get()
    if state is not None:
        state.quota = quota


def request_id_from(headers: Mapping[str, str] | None, fallback: str | None = None) -> str:
    """The client's `X-Request-Id` if it sent a sane one, else `fallback`, else a new one."""
    for name, value in (headers or {}).items():
        if name.lower() == "x-request-id" and _SANE_ID.match(value or ""):
            return value
    return fallback or str(uuid.uuid4())


def begin_request(headers: Mapping[str, str] | None, fallback: str | None = None) -> str:
    """Start handling a request: its id, kept for the logs until the next request."""
    request_id = request_id_from(headers, fallback)
    # Not reset afterwards on purpose: the server's access log line comes after the answer.
    _current.set(_Current(request_id))
    return request_id


def with_api_headers(handler: ProxyHandler) -> ProxyHandler:
    """`handler` (the authorizer and resolver) with the headers above on every answer."""

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        fallback = (event.get("requestContext") or {}).get("requestId")
        request_id = begin_request(event.get("headers"), fallback)
        if is_preflight(event.get("httpMethod"), event.get("headers")):
            response: dict[str, Any] = {"statusCode": 204, "headers": preflight_headers()}
        else:
            response = handler(_json_by_default(event), context)
        state = _current.get()
        extra = answer_headers(request_id, state.quota if state else None)
        response["headers"] = {**(response.get("headers") or {}), **extra}
        return response

    return handle


def _json_by_default(event: dict[str, Any]) -> dict[str, Any]:
    """A body sent with no Content-Type, or as a form (what `curl -d` sends unless told
    otherwise), is read as the JSON every route takes: so non-JSON is `invalid_json`, not
    a puzzling validation error about form fields."""
    headers = event.get("headers") or {}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if not event.get("body") or content_type not in ("", "application/x-www-form-urlencoded"):
        return event
    kept = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items()}
    multi = {k: v for k, v in multi.items() if k.lower() != "content-type"}
    json_type = "application/json"
    return {
        **event,
        "headers": {**kept, "Content-Type": json_type},
        "multiValueHeaders": {**multi, "Content-Type": [json_type]},
    }


def answer_headers(request_id: str, quota: RateQuota | None) -> dict[str, str]:
    """The headers added to an answer."""
    headers = {
        REQUEST_ID: request_id,
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": ", ".join(_EXPOSED),
    }
    if quota is not None:
        headers["RateLimit-Limit"] = str(quota.limit)
        headers["RateLimit-Remaining"] = str(quota.remaining)
        headers["RateLimit-Reset"] = str(quota.reset_s)
    return headers


def is_preflight(method: str | None, headers: Mapping[str, str] | None) -> bool:
    """A browser's CORS preflight: OPTIONS with Origin and Access-Control-Request-Method."""
    names = {name.lower() for name in (headers or {})}
    return method == "OPTIONS" and {"origin", "access-control-request-method"} <= names


def preflight_headers() -> dict[str, str]:
    """What API Gateway's CORS preflight answers (`default_cors_preflight_options`)."""
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": ",".join(CORS_ALLOW_METHODS),
        "Access-Control-Allow-Headers": ",".join(CORS_ALLOW_HEADERS),
        "Access-Control-Max-Age": str(CORS_MAX_AGE_S),
    }


def with_request_id(
    headers: list[tuple[str, str]], client_request_id: str | None
) -> list[tuple[str, str]]:
    """A local-server answer's headers with an `X-Request-Id` (for answers the server gives
    itself, such as downloads and refused bodies)."""
    if any(name.lower() == "x-request-id" for name, _ in headers):
        return headers
    given = {REQUEST_ID: client_request_id} if client_request_id else None
    return [*headers, (REQUEST_ID, begin_request(given))]
