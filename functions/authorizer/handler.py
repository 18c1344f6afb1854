"""API Gateway REQUEST authorizer Lambda: thin; the decision is `faceport.auth`'s.

Answers Allow with `{account_id, key_id}` as context, or, for a refused key, `{error_code,
error_message}`: a Deny for the ACCESS_DENIED gateway response on native paths, an Allow
without a caller on other route groups' paths (see `faceport.auth`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from faceport.adapters.aws.dynamo_accounts import DynamoAccounts
from faceport.adapters.aws.observability import observed
from faceport.api.groups import ROUTE_GROUPS
from faceport.auth import authorizer_response
from faceport.settings import Settings


@cache
def _keys() -> DynamoAccounts:
    settings = Settings()
    if not settings.accounts_table:
        raise RuntimeError("FACEPORT_ACCOUNTS_TABLE is not set")
    return DynamoAccounts(settings.accounts_table, settings.idempotency_table)


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return authorizer_response(event, _keys(), ROUTE_GROUPS.gateway_denies)
