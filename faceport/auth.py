"""Authentication: from a request's headers to the account it acts for.

One function (`authorizer_response`) is the whole API Gateway REQUEST authorizer: the
authorizer Lambda calls it on AWS, and the local server calls it before the API handler
and puts the result into the proxy event's `requestContext.authorizer`, as API Gateway
does. The API handler then only reads the caller from the event (`caller_from_event`).

A refused key on a path whose route group lets API Gateway answer (the native API) gets a
Deny policy whose context carries the error code and message; the ACCESS_DENIED gateway
response renders them as a 401 in the native envelope (`faceport.api.native.errors`). On
any other group's path the refusal is an Allow without a caller, carrying the error, so
that the API Lambda answers it in that group's envelope (`caller_from_event` raises it).
See docs/ARCHITECTURE.md, "Authentication".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from faceport.accounts import ApiKeyRecord, Caller, key_id_of, key_matches, presented_key
from faceport.errors import (
    InvalidApiKey,
    MissingApiKey,
    RevokedApiKey,
    Unauthenticated,
    error_for_code,
)


def _always(_path: str) -> bool:
    return True


class KeyLookup(Protocol):
    def find_key(self, key_id: str) -> ApiKeyRecord | None: ...


def authenticate(headers: Mapping[str, str] | None, keys: KeyLookup) -> Caller:
    """The caller behind the request's API key. Raises `MissingApiKey`, `InvalidApiKey`
    (malformed, unknown, or wrong secret: not told apart) or `RevokedApiKey` (only once the
    secret matched, so it says nothing to someone guessing)."""
    token = presented_key(headers)
    key_id = key_id_of(token)
    record = keys.find_key(key_id) if key_id else None
    if record is None or not key_matches(token, record.secret_hash):
        raise InvalidApiKey()
    if record.revoked_at is not None:
        raise RevokedApiKey()
    return Caller(account_id=record.account_id, key_id=record.id)


def authorizer_response(
    event: Mapping[str, Any],
    keys: KeyLookup,
    gateway_denies: Callable[[str], bool] = _always,
) -> dict[str, Any]:
    """The REQUEST authorizer's answer for an API Gateway event: Allow with the caller in
    the context, or the error: a Deny where `gateway_denies(path)`, else an Allow without
    a caller that the API answers in its route group's envelope. The policy covers every
    method and path of the stage, so that API Gateway may cache it per key."""
    try:
        caller = authenticate(event.get("headers"), keys)
    except Unauthenticated as error:
        refusal = {"error_code": error.code, "error_message": error.message}
        denies = gateway_denies(str(event.get("path") or "/"))
        return _policy("anonymous", "Deny" if denies else "Allow", event, refusal)
    context = {"account_id": caller.account_id, "key_id": caller.key_id or ""}
    return _policy(caller.key_id or caller.account_id, "Allow", event, context)


def _policy(
    principal: str, effect: str, event: Mapping[str, Any], context: dict[str, str]
) -> dict[str, Any]:
    # methodArn: arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH
    arn_parts = str(event.get("methodArn") or "*/*").split("/", 2)
    resource = f"{arn_parts[0]}/{arn_parts[1] if len(arn_parts) > 1 else '*'}/*"
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context,
    }


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    """The caller an authorizer put on the event (REST `requestContext.authorizer.*`, or
    HTTP API `requestContext.authorizer.lambda.*`). No caller: the refusal the authorizer
    passed on, else `MissingApiKey` (a route reached without the authorizer fails closed)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    context = authorizer.get("lambda") or authorizer
    account_id = context.get("account_id")
    if not account_id:
        refused = error_for_code(str(context.get("error_code") or MissingApiKey.code))
        if not isinstance(refused, Unauthenticated):
            raise MissingApiKey()
        raise type(refused)(context.get("error_message") or None)
    return Caller(account_id=str(account_id), key_id=str(context.get("key_id") or "") or None)
