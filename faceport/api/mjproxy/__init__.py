"""Midjourney-proxy's InsightFace swap (seed mjproxy-insightface-swap.txt) and the family's
task routes: fetch, lists, queue, paged query, cancel; `notifyHook` gets the bare Task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faceport.api.mjproxy import errors
from faceport.api.route_group import RouteGroup

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from faceport.service import Services
    from faceport.tasks import Task

DIALECT = "mjproxy"
# trueai's speed-mode prefixes lead to the same routes (the mode is ignored).
MODE_PREFIXES = ("", "/mj-fast", "/mj-turbo", "/mj-relax")


def _router(svc: Services) -> APIGatewayRouter:
    from faceport.api.mjproxy.routes import router

    return router(svc)


def _render_task(svc: Services, task: Task) -> dict[str, Any]:
    from faceport.api.mjproxy.views import task_object

    return task_object(svc, task)


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=tuple(f"{mode}/mj/" for mode in MODE_PREFIXES),
    router=_router,
    render_error=errors.render_error,
    render_task=_render_task,
    bare_events=True,  # notifyHook receives the Task object itself
)
