"""HeyGen's FaceswapNode workflow executions (seed heygen-faceswap-video.txt): a video face
swap behind `POST /v1/workflows/executions` and its status route."""

from __future__ import annotations

from faceport.api.heygen import errors
from faceport.api.route_group import ApiRoute, RouteGroup, lazy

DIALECT = "heygen"


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=("/v1/workflows/", "/v1/nodes/"),
    router=lazy("faceport.api.heygen.routes", "router"),
    query_router=lazy("faceport.api.heygen.routes", "query_router"),
    routes=(
        ApiRoute("POST", "/v1/workflows/executions", "submit"),
        ApiRoute("GET", "/v1/workflows/executions/{execution_id}", "query"),
        ApiRoute("POST", "/v1/nodes/executions", "submit"),
        ApiRoute("GET", "/v1/nodes/executions/{execution_id}", "query"),
    ),
    render_error=errors.render_error,
    render_task=lazy("faceport.api.heygen.views", "execution"),
)
