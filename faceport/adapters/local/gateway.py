"""The local stand-in for API Gateway's Lambda authorizer: run the authorizer on the
proxy event before the API handler sees it, answer 401 for a refused key (what the
ACCESS_DENIED gateway response renders on AWS), and otherwise hand the authorizer's
context on in `requestContext.authorizer`, as API Gateway does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faceport.api.groups import RouteGroups
from faceport.api.headers import with_api_headers, with_rate_limit
from faceport.auth import KeyLookup, authorizer_response
from faceport.errors import error_for_code
from faceport.ports import RateLimiter

ProxyHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def with_authorizer(handler: ProxyHandler, keys: KeyLookup, groups: RouteGroups) -> ProxyHandler:
    """`handler` behind the authorizer, for every path where `groups.needs_api_key(path)`."""

    def gated(event: dict[str, Any], context: Any) -> dict[str, Any]:
        path = event.get("path") or "/"
        if groups.needs_api_key(path):
            answer = authorizer_response(event, keys, groups.gateway_denies)
            granted = answer["context"]
            if answer["policyDocument"]["Statement"][0]["Effect"] != "Allow":
                error = error_for_code(granted["error_code"], granted["error_message"])
                return groups.render_error(path, error).proxy()
            event["requestContext"]["authorizer"] = {
                "principalId": answer["principalId"],
                **granted,
            }
        return handler(event, context)

    return gated


def local_edge(
    resolve: ProxyHandler, keys: KeyLookup, limiter: RateLimiter, groups: RouteGroups
) -> ProxyHandler:
    """What stands in front of the resolver locally, in API Gateway's order: the answer
    headers and CORS preflight, the authorizer, then the key's request rate
    (`faceport.api.headers`)."""
    limited = with_rate_limit(resolve, limiter, groups)
    return with_api_headers(with_authorizer(limited, keys, groups))
