"""The native /v1 API as a route group: routes, schemas, views and its error envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faceport.api.native import errors
from faceport.api.route_group import ApiRoute, RouteGroup
from faceport.settings import PROVIDER_CALLBACK_PATH

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from faceport.service import Queries, Services
    from faceport.tasks import Task


# Routes and views load on first use: the authorizer Lambda needs only the envelope.
def _router(svc: Services) -> APIGatewayRouter:
    from faceport.api.native.routes import router

    return router(svc)


def _query_router(svc: Queries) -> APIGatewayRouter:
    from faceport.api.native.routes import query_router

    return query_router(svc)


def _render_task(svc: Queries, task: Task) -> dict[str, Any]:
    from faceport.api.native.views import render_task

    return render_task(svc, task)


def _prepare_event(event: dict[str, Any]) -> dict[str, Any]:
    from faceport.api.native.multipart import as_json_event

    return as_json_event(event)


ROUTES = (
    ApiRoute("POST", "/v1/face-swap", "submit"),
    ApiRoute("POST", "/v1/face-fusion", "submit"),
    ApiRoute("POST", "/v1/video-face-swap", "submit"),
    ApiRoute("POST", "/v1/face-detect", "submit"),
    ApiRoute("POST", "/v1/tasks/{task_id}/cancel", "submit"),
    ApiRoute("POST", "/v1/tasks/{task_id}/deliveries/redeliver", "submit"),
    # Secrets are made on first read: a write.
    ApiRoute("GET", "/v1/webhooks/secret", "submit"),
    ApiRoute("POST", "/v1/webhooks/secret/rotate", "submit"),
    # A provider's callback completes the waiting step (a write); for providers, not clients.
    ApiRoute("POST", PROVIDER_CALLBACK_PATH, "submit", documented=False),
    ApiRoute("GET", "/v1/account", "query"),
    ApiRoute("GET", "/v1/tasks", "query"),
    ApiRoute("GET", "/v1/tasks/{task_id}", "query"),
    ApiRoute("GET", "/v1/tasks/{task_id}/deliveries", "query"),
)

GROUP = RouteGroup(
    name="native",
    prefixes=("/v1/",),
    router=_router,
    query_router=_query_router,
    routes=ROUTES,
    render_error=errors.render_error,
    render_task=_render_task,
    # API Gateway's gateway responses speak this envelope (infra/api.py).
    gateway_denies=True,
    prepare_event=_prepare_event,
    public_paths=frozenset({PROVIDER_CALLBACK_PATH}),
)
