"""API in One's face-swap tool (seed apiinone-face-swap.txt): `POST
/api/v1/images/tools/face-swap` and `GET /api/v1/tasks/{task_id}`."""

from __future__ import annotations

from faceport.api.apiinone import errors
from faceport.api.route_group import ApiRoute, RouteGroup, lazy

DIALECT = "apiinone"


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=("/api/v1/",),
    router=lazy("faceport.api.apiinone.routes", "router"),
    query_router=lazy("faceport.api.apiinone.routes", "query_router"),
    routes=(
        ApiRoute("POST", "/api/v1/images/tools/face-swap", "submit"),
        ApiRoute("GET", "/api/v1/tasks/{task_id}", "query"),
    ),
    render_error=errors.render_error,
    render_task=lazy("faceport.api.apiinone.views", "task_status"),
)
