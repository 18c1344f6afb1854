"""The API's resolver: every route group's Router behind one Powertools REST resolver,
the caller and Prefer middlewares, the playground's pages, the completed OpenAPI
reference (`faceport.api.reference`), and the error mapping (each group's own envelope).

The same `build_app` runs inside the API Lambda and behind the local HTTP server; the only
difference between the two is the `Services` it is given.

`include_router` merges a router's middlewares and exception handlers into the resolver
for every route, so route groups register none: the handlers here turn every exception
into a `FaceportError` and ask `RouteGroups.render_error` for the envelope of the path's
group (docs/ARCHITECTURE.md, "Error rendering").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from faceport import bounds
from faceport.api import reference
from faceport.api.groups import ROUTE_GROUPS, RouteGroups
from faceport.api.prefer import preferred_wait
from faceport.auth import caller_from_event
from faceport.errors import (
    FaceportError,
    InvalidJson,
    RouteNotFound,
    Unauthenticated,
    UnsupportedContentType,
    ValidationFailed,
)

if TYPE_CHECKING:  # the status Lambda's import stays without submit's modules
    from faceport.service import Queries, Services

logger = logging.getLogger(__name__)

API_TITLE = "faceport"
API_VERSION = "1.0.0"
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]


def _security_schemes() -> dict[str, Any]:
    """Every header style the seed APIs use works; these two are the ones documented here.
    (Powertools' OpenAPI models cost ~45 ms to import: only the Lambda serving the docs,
    the submit Lambda, loads them, on its first event.)"""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

    return {
        "bearer": HTTPBearer(description="`Authorization: Bearer fpk_...`"),
        "apiKey": APIKey.model_validate({"name": "X-Api-Key", "in": APIKeyIn.header}),
    }


class ThreadSafeRestResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, safe to call from several threads at once.

    Powertools keeps the request being resolved in a class attribute
    (`BaseRouter.current_event`, shared by every resolver in the process) and in the
    instance's `context` dict. A Lambda process serves one request at a time, but the local
    server serves many at once, and two requests would read each other's event and caller.
    Here both live in thread-local storage, per resolver, and a route's middleware stack
    is built under a lock.
    """

    def __init__(self, groups: RouteGroups = ROUTE_GROUPS, **kwargs: Any) -> None:
        self._per_thread = threading.local()
        self._groups = groups
        self._building = threading.Lock()
        super().__init__(**kwargs)

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder[Any]:
        # Powertools builds a route's middleware stack on its first call, in place, frame
        # by frame: two first calls at once interleave their frames (a TypeError inside).
        if not route._middleware_stack_built:
            with self._building:
                if not route._middleware_stack_built:
                    route._build_middleware_stack(self._router_middlewares, self)
        return super()._call_route(route, route_arguments)

    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEvent:
        event: APIGatewayProxyEvent = self._per_thread.event
        return event

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEvent) -> None:
        self._per_thread.event = value

    @property
    def context(self) -> dict[str, Any]:
        if not hasattr(self._per_thread, "context"):
            self._per_thread.context = {}
        context: dict[str, Any] = self._per_thread.context
        return context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._per_thread.context = value

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """A request the authorizer refused gets its 401 before anything else: Powertools
        validates the body before any middleware runs, so a bad body would otherwise be
        answered (400) ahead of the missing key."""
        path = str(event.get("path") or "/")
        if self._groups.needs_api_key(path):
            try:
                caller_from_event(event)
            except Unauthenticated as refused:
                return self._groups.render_error(path, refused).proxy()
        return super().resolve(event, context)

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        # /openapi.json and /docs both: completed with examples, headers and error codes.
        generated = super().get_openapi_schema(**kwargs)
        return type(generated).model_validate(
            reference.complete(generated.model_dump(by_alias=True, exclude_none=True))
        )

    def _to_proxy_event(self, event: dict[str, Any]) -> BaseProxyEvent:
        # Where `resolve` makes the event it then keeps in `BaseRouter.current_event`;
        # the path's group may rewrite the raw event first (native multipart uploads).
        proxy = super()._to_proxy_event(self._groups.prepare_event(event))
        self.current_event = cast(APIGatewayProxyEvent, proxy)
        return proxy


def build_app(svc: Services, groups: RouteGroups = ROUTE_GROUPS) -> APIGatewayRestResolver:
    """The resolver with every route group's routes and the docs, bound to one set of
    services."""
    app = _resolver(svc, groups)
    security_schemes = _security_schemes()
    app.enable_swagger(
        path="/docs",
        title=API_TITLE,
        version=API_VERSION,
        security_schemes=security_schemes,
        security=_SECURITY,
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        schema = app.get_openapi_json_schema(
            title=API_TITLE,
            version=API_VERSION,
            security_schemes=security_schemes,
            security=_SECURITY,
        )
        return Response(200, content_types.APPLICATION_JSON, schema)

    from faceport.playground.router import playground_router  # pages: not the status Lambda's

    app.include_router(playground_router())
    for group in groups.groups:
        app.include_router(group.router(svc))
    return app


def build_query_app(queries: Queries, groups: RouteGroups = ROUTE_GROUPS) -> APIGatewayRestResolver:
    """The resolver with only the groups' query routes (the status Lambda)."""
    app = _resolver(queries, groups)
    for group in groups.groups:
        if group.query_router is not None:
            app.include_router(group.query_router(queries))
    return app


def _resolver(svc: Queries, groups: RouteGroups) -> APIGatewayRestResolver:
    """A resolver with the middlewares and the error mapping, and no route yet."""
    # Bodies are parsed as strict, bounded JSON objects (faceport.bounds), in both shapes.
    app = ThreadSafeRestResolver(
        groups, enable_validation=True, json_body_deserializer=bounds.loads_request_body
    )

    def authenticated(
        app: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        """Who the request acts for (the authorizer's verdict; the key's request rate is
        counted before the resolver, in `api.headers.with_rate_limit`)."""
        if groups.needs_api_key(app.current_event.path):
            caller = caller_from_event(app.current_event.raw_event)
            app.context["caller"] = caller  # cleared after every request
        return next_middleware(app)

    def preferences(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        """Headers are read before any route runs: nothing is created or charged for a
        request whose headers then fail."""
        prefer = app.current_event.headers.get("prefer")  # case-insensitive in Powertools v3
        app.context["wait"] = preferred_wait(prefer, svc.settings.max_wait_s)
        return next_middleware(app)

    app.use(middlewares=[authenticated, preferences])
    _map_errors(app, groups)
    return app


def _map_errors(app: APIGatewayRestResolver, groups: RouteGroups) -> None:
    """Every exception the resolver sees, answered in the envelope of the path's group."""

    def render(error: FaceportError) -> Response[str]:
        return groups.render_error(app.current_event.path, error).response()

    @app.exception_handler(FaceportError)
    def _faceport_error(exc: FaceportError) -> Response[str]:
        return render(exc)

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response[str]:
        return render(from_validation_error(exc))

    @app.exception_handler(RequestUnsupportedContentType)
    def _content_type(_exc: RequestUnsupportedContentType) -> Response[str]:
        return render(UnsupportedContentType())

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error", exc_info=exc)
        return render(FaceportError())

    @app.not_found
    def _not_found(_exc: Exception) -> Response[str]:
        return render(RouteNotFound())


def from_validation_error(exc: RequestValidationError) -> FaceportError:
    """Turn Powertools' validation report into one of our errors with a readable message."""
    problems = list(exc.errors())
    kinds = {str(p.get("type")) for p in problems}
    if "json_invalid" in kinds:
        return InvalidJson()
    fields = [
        {"field": ".".join(str(part) for part in p.get("loc", ())), "problem": p.get("msg")}
        for p in problems
    ]
    summary = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
    return ValidationFailed(f"The request does not match the schema: {summary}.", fields=fields)
