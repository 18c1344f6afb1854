"""The API resolver as a Lambda handler, built on the first call and kept warm after."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from faceport.api.app import build_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.api.headers import ProxyHandler, with_api_headers, with_rate_limit
from faceport.service import Services
from faceport.settings import Settings


@cache
def _services() -> Services:
    return services_for(Settings())


@cache
def _app() -> APIGatewayRestResolver:
    return build_app(_services())


def services_for(settings: Settings) -> Services:
    """The services of the AWS shape (DynamoDB, S3, Step Functions); the local server
    builds its own from the local runtime."""
    from faceport.adapters.aws.runtime import build_aws_runtime

    return build_aws_runtime(settings).services


@cache
def _handler() -> ProxyHandler:
    # API Gateway ran the authorizer (and answered any CORS preflight) already.
    limited = with_rate_limit(_app().resolve, _services().rate_limiter, ROUTE_GROUPS)
    return with_api_headers(limited)


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve one API Gateway proxy event."""
    return _handler()(event, context)
