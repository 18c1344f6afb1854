"""The native /v1 API as a route group: routes, schemas, views and its error envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faceport.api.native import errors
from faceport.api.route_group import RouteGroup
from faceport.settings import PROVIDER_CALLBACK_PATH

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from faceport.service import Services
    from faceport.tasks import Task


# Routes and views load on first use: the authorizer Lambda needs only the envelope.
def _router(svc: Services) -> APIGatewayRouter:
    from faceport.api.native.routes import router

    return router(svc)


def _render_task(svc: Services, task: Task) -> dict[str, Any]:
    from faceport.api.native.views import render_task

    return render_task(svc, task)


def _prepare_event(event: dict[str, Any]) -> dict[str, Any]:
    from faceport.api.native.multipart import as_json_event

    return as_json_event(event)


GROUP = RouteGroup(
    name="native",
    prefixes=("/v1/",),
    router=_router,
    render_error=errors.render_error,
    render_task=_render_task,
    # API Gateway's gateway responses speak this envelope (infra/api.py).
    gateway_denies=True,
    prepare_event=_prepare_event,
    public_paths=frozenset({PROVIDER_CALLBACK_PATH}),
)
