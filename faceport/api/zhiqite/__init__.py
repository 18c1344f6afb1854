"""Zhiqite "Img Open" single face swap (seed zhiqite-roop-face-swap.txt): `POST
/AIGCImgOpenServ/saas/tool/roop`, `businessTaskId` its idempotency key, and the tool's
`queryTask`."""

from __future__ import annotations

from faceport.api.route_group import ApiRoute, RouteGroup, lazy
from faceport.api.zhiqite import errors

DIALECT = "zhiqite"


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=("/AIGCImgOpenServ/",),
    router=lazy("faceport.api.zhiqite.routes", "router"),
    query_router=lazy("faceport.api.zhiqite.routes", "query_router"),
    routes=(
        # The submit may wait for the swap (up to 20 s); the query is a POST that only reads.
        ApiRoute("POST", "/AIGCImgOpenServ/saas/tool/roop", "submit"),
        ApiRoute("POST", "/AIGCImgOpenServ/saas/tool/roop/queryTask", "query"),
    ),
    render_error=errors.render_error,
    render_task=lazy("faceport.api.zhiqite.views", "record"),
)
