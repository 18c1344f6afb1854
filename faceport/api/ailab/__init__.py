"""AILabTools' Merge Portraits (seed ailabtools-face-fusion.txt): a synchronous face fusion
over multipart/form-data, answered in the `error_code` envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faceport.api.ailab import errors
from faceport.api.route_group import RouteGroup

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from faceport.service import Services
    from faceport.tasks import Task

DIALECT = "ailab"


def _router(svc: Services) -> APIGatewayRouter:
    from faceport.api.ailab.routes import router

    return router(svc)


def _render_task(svc: Services, task: Task) -> dict[str, Any]:
    from faceport.api.ailab.views import task_answer

    return task_answer(svc, task)[1]


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=("/api/portrait/",),
    router=_router,
    render_error=errors.render_error,
    render_task=_render_task,
)
