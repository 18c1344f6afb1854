"""What a route group is: one API dialect's routes, its error envelope and its view of a
task. The native API is one (`faceport.api.native`); a dialect is another package that
builds one of these, registered in `faceport.api.groups`. See docs/ARCHITECTURE.md,
"Error rendering"."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from faceport.errors import (
    FaceportError,
    InvalidBase64,
    RateLimited,
    UnsupportedContentType,
    UnsupportedMedia,
    ValidationFailed,
)

if TYPE_CHECKING:  # the authorizer Lambda imports the groups; it needs none of these
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from faceport.service import Queries, Services, TaskRenderer

# Which API Lambda answers a route on AWS: "submit" creates or changes work (tasks, holds,
# executions, deliveries, secrets), "query" only reads (tasks, accounts, deliveries) and
# signs result links. A dialect's query sent as a POST is a query. See
# docs/ARCHITECTURE.md, "Two API Lambdas".
RouteKind = Literal["submit", "query"]


@dataclass(frozen=True)
class ApiRoute:
    """One route of a group as API Gateway sees it (OpenAPI path form: `{task_id}`).

    `documented`: whether the route is in the OpenAPI reference (`/openapi.json`); one
    that says False is served but left out, as its router registers it
    (`include_in_schema=False`), and `tests/infra/test_routes.py` holds the two together.
    """

    method: str
    path: str
    kind: RouteKind
    documented: bool = True


def lazy(module: str, name: str) -> Callable[..., Any]:
    """`module.name`, imported on first call: a group's routes and views load when used
    (the authorizer Lambda imports the groups for their envelopes only)."""

    def call(*args: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args)

    return call


@dataclass(frozen=True)
class ErrorAnswer:
    """An error as a route group answers it: status, headers and body."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response[str]:
        """As the resolver returns it."""
        from aws_lambda_powertools.event_handler import Response

        return Response(status_code=self.status, body=self.body, headers=dict(self.headers))

    def proxy(self) -> dict[str, Any]:
        """As an API Gateway proxy response (the local gateway step)."""
        return {
            "statusCode": self.status,
            "headers": dict(self.headers),
            "body": self.body,
            "isBase64Encoded": False,
        }


@dataclass(frozen=True)
class RouteGroup:
    """One dialect of the API.

    `prefixes` are the paths it owns (an error on any path under them, even one raised
    before a handler runs or for a route that does not exist, is answered with
    `render_error`); `name` is what tasks submitted through it remember as their dialect.
    `router` registers every route; `query_router` only those whose kind is "query" (the
    status Lambda builds that one); `routes` declares each route and its kind (API
    Gateway's routes are made from it, and a test holds it to what the routers serve).
    `gateway_denies`: whether API Gateway's ACCESS_DENIED gateway response, which is one
    per API and speaks the native envelope, may answer this group's 401s on AWS; a group
    that says False gets its refused requests passed on to the API Lambda instead, which
    answers them with `render_error` (`faceport.auth`). `bare_events`: its tasks' webhook
    bodies are `render_task` itself, not the Standard Webhooks `{type, timestamp, data}`.
    `prepare_event`: rewrites a raw proxy event of its paths before routing (the native
    group reads multipart image uploads as its JSON body).
    """

    name: str
    prefixes: tuple[str, ...]
    router: Callable[[Services], APIGatewayRouter]
    render_error: Callable[[FaceportError], ErrorAnswer]
    render_task: TaskRenderer
    routes: tuple[ApiRoute, ...] = ()
    query_router: Callable[[Queries], APIGatewayRouter] | None = None
    public_paths: frozenset[str] = frozenset()
    gateway_denies: bool = False
    bare_events: bool = False
    prepare_event: Callable[[dict[str, Any]], dict[str, Any]] | None = None


# What the native API answers 415 or 422 for is a malformed request to a dialect client,
# which the seeds answer 400.
_BAD_REQUEST = (ValidationFailed, UnsupportedContentType, UnsupportedMedia, InvalidBase64)


def client_status(error: FaceportError) -> int:
    """The HTTP status of `error` in a dialect: a malformed request is a 400."""
    return 400 if isinstance(error, _BAD_REQUEST) else error.status


def bad_field(error: FaceportError) -> str | None:
    """The first field a validation error names, without its `body.` prefix."""
    fields = error.details.get("fields") or []
    if not fields:
        return None
    return str(fields[0].get("field", "")).removeprefix("body.") or None


def error_headers(error: FaceportError) -> dict[str, str]:
    """The headers of a JSON error answer, with `Retry-After` on a rate limit."""
    headers = {"Content-Type": "application/json"}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_s)
    return headers
