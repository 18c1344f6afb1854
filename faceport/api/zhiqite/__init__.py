"""Zhiqite "Img Open" single face swap (seed zhiqite-roop-face-swap.txt): `POST
/AIGCImgOpenServ/saas/tool/roop`, `businessTaskId` its idempotency key, and the tool's
`queryTask`."""

from __future__ import annotations

from faceport.api.route_group import RouteGroup, lazy
from faceport.api.zhiqite import errors

DIALECT = "zhiqite"


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=("/AIGCImgOpenServ/",),
    router=lazy("faceport.api.zhiqite.routes", "router"),
    render_error=errors.render_error,
    render_task=lazy("faceport.api.zhiqite.views", "record"),
)
