"""Zhiqite "Img Open" single face swap (seed zhiqite-roop-face-swap.txt): `POST
/AIGCImgOpenServ/saas/tool/roop`, `businessTaskId` its idempotency key, and the tool's
`queryTask`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faceport.api.route_group import RouteGroup
from faceport.api.zhiqite import errors

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from faceport.service import Services
    from faceport.tasks import Task

DIALECT = "zhiqite"


def _router(svc: Services) -> APIGatewayRouter:
    from faceport.api.zhiqite.routes import router

    return router(svc)


def _render_task(svc: Services, task: Task) -> dict[str, Any]:
    from faceport.api.zhiqite.views import record

    return record(svc, task)


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=("/AIGCImgOpenServ/",),
    router=_router,
    render_error=errors.render_error,
    render_task=_render_task,
)
