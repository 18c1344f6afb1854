"""The local stand-in for API Gateway's Lambda authorizer: run the authorizer on the
proxy event before the API handler sees it, answer 401 for a refused key, and otherwise
hand the authorizer's context on in `requestContext.authorizer`, as API Gateway does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from faceport.auth import KeyLookup, authorizer_response

ProxyHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def with_authorizer(
    handler: ProxyHandler, keys: KeyLookup, needs_key: Callable[[str], bool]
) -> ProxyHandler:
    """`handler` behind the authorizer, for every path where `needs_key(path)`."""

    def gated(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if needs_key(event.get("path") or "/"):
            answer = authorizer_response(event, keys)
            granted = answer["context"]
            if answer["policyDocument"]["Statement"][0]["Effect"] != "Allow":
                # What the ACCESS_DENIED gateway response (auth.GATEWAY_ERROR_TEMPLATE) renders.
                error = {"code": granted["error_code"], "message": granted["error_message"]}
                return {
                    "statusCode": 401,
                    "headers": {"Content-Type": "application/json"},
                    "body": json.dumps({"error": error}),
                    "isBase64Encoded": False,
                }
            event["requestContext"]["authorizer"] = {
                "principalId": answer["principalId"],
                **granted,
            }
        return handler(event, context)

    return gated
