"""The native /v1 API as a route group: routes, schemas, views and its error envelope."""

from __future__ import annotations

from faceport.api.native import errors, routes, views
from faceport.api.route_group import RouteGroup

GROUP = RouteGroup(
    name=views.DIALECT,
    prefixes=("/v1/",),
    router=routes.router,
    render_error=errors.render_error,
    render_task=views.render_task,
    # API Gateway's gateway responses speak this envelope (infra/api.py).
    gateway_denies=True,
)
