"""HeyGen's FaceswapNode workflow executions (seed heygen-faceswap-video.txt): a video face
swap behind `POST /v1/workflows/executions` and its status route."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faceport.api.heygen import errors
from faceport.api.route_group import RouteGroup

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from faceport.service import Services
    from faceport.tasks import Task

DIALECT = "heygen"


def _router(svc: Services) -> APIGatewayRouter:
    from faceport.api.heygen.routes import router

    return router(svc)


def _render_task(svc: Services, task: Task) -> dict[str, Any]:
    from faceport.api.heygen.views import execution

    return execution(svc, task)


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=("/v1/workflows/", "/v1/nodes/"),
    router=_router,
    render_error=errors.render_error,
    render_task=_render_task,
)
