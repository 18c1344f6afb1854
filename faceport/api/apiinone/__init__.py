"""API in One's face-swap tool (seed apiinone-face-swap.txt): `POST
/api/v1/images/tools/face-swap` and `GET /api/v1/tasks/{task_id}`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faceport.api.apiinone import errors
from faceport.api.route_group import RouteGroup

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from faceport.service import Services
    from faceport.tasks import Task

DIALECT = "apiinone"


def _router(svc: Services) -> APIGatewayRouter:
    from faceport.api.apiinone.routes import router

    return router(svc)


def _render_task(svc: Services, task: Task) -> dict[str, Any]:
    from faceport.api.apiinone.views import task_status

    return task_status(svc, task)


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=("/api/v1/",),
    router=_router,
    render_error=errors.render_error,
    render_task=_render_task,
)
