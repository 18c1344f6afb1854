"""The resolvers as Lambda handlers, built on the first call and kept warm after: the
submit Lambda (every route; it also serves the docs, which describe them all) and the
status Lambda (the query routes only, on the ports a query needs). What only the wiring
needs (settings, adapters) is imported with it, on the first event."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from faceport.api.app import build_app, build_query_app


@cache
def _app() -> APIGatewayRestResolver:
    from faceport.adapters.aws.runtime import build_services
    from faceport.settings import AwsSettings

    return build_app(build_services(AwsSettings.from_environment()))


@cache
def _query_app() -> APIGatewayRestResolver:
    from faceport.adapters.aws.runtime import build_queries
    from faceport.settings import AwsSettings

    return build_query_app(build_queries(AwsSettings.from_environment()))


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve one API Gateway proxy event on the submit Lambda."""
    return _app().resolve(event, context)


def handle_query(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve one API Gateway proxy event on the status Lambda."""
    return _query_app().resolve(event, context)
