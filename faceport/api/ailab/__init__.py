"""AILabTools' Merge Portraits (seed ailabtools-face-fusion.txt): a synchronous face fusion
over multipart/form-data, answered in the `error_code` envelope."""

from __future__ import annotations

from faceport.api.ailab import errors
from faceport.api.route_group import ApiRoute, RouteGroup, lazy

DIALECT = "ailab"


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=("/api/portrait/",),
    router=lazy("faceport.api.ailab.routes", "router"),
    # Synchronous: the request waits for the fusion (multipart, a binary media type on AWS).
    routes=(ApiRoute("POST", "/api/portrait/effects/face-fusion", "submit"),),
    render_error=errors.render_error,
    render_task=lazy("faceport.api.ailab.views", "task_body"),
)
