"""The resolvers as Lambda handlers, built on the first call and kept warm after: the
submit Lambda (every route; it also serves the docs, which describe them all) and the
status Lambda (the query routes only, on the ports a query needs). Both count the key's
request rate before the resolver and put the API's headers on every answer. What only
the wiring needs (settings, adapters) is imported with it, on the first event."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from faceport.api.app import build_app, build_query_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.api.headers import ProxyHandler, with_api_headers, with_rate_limit

if TYPE_CHECKING:
    from faceport.service import Queries, Services


@cache
def _services() -> Services:
    from faceport.adapters.aws.runtime import build_services
    from faceport.settings import AwsSettings

    return build_services(AwsSettings.from_environment())


@cache
def _queries() -> Queries:
    from faceport.adapters.aws.runtime import build_queries
    from faceport.settings import AwsSettings

    return build_queries(AwsSettings.from_environment())


@cache
def _handler() -> ProxyHandler:
    # API Gateway ran the authorizer (and answered any CORS preflight) already.
    services = _services()
    limited = with_rate_limit(build_app(services).resolve, services.rate_limiter, ROUTE_GROUPS)
    return with_api_headers(limited)


@cache
def _query_handler() -> ProxyHandler:
    queries = _queries()
    resolve = build_query_app(queries).resolve
    return with_api_headers(with_rate_limit(resolve, queries.rate_limiter, ROUTE_GROUPS))


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve one API Gateway proxy event on the submit Lambda."""
    return _handler()(event, context)


def handle_query(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve one API Gateway proxy event on the status Lambda."""
    return _query_handler()(event, context)
