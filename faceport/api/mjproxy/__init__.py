"""Midjourney-proxy's InsightFace swap (seed mjproxy-insightface-swap.txt) and the family's
task routes: fetch, lists, queue, paged query, cancel; `notifyHook` gets the bare Task."""

from __future__ import annotations

from faceport.api.mjproxy import errors
from faceport.api.route_group import RouteGroup, lazy

DIALECT = "mjproxy"
# trueai's speed-mode prefixes lead to the same routes (the mode is ignored).
MODE_PREFIXES = ("", "/mj-fast", "/mj-turbo", "/mj-relax")


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=tuple(f"{mode}/mj/" for mode in MODE_PREFIXES),
    router=lazy("faceport.api.mjproxy.routes", "router"),
    render_error=errors.render_error,
    render_task=lazy("faceport.api.mjproxy.views", "task_object"),
    bare_events=True,  # notifyHook receives the Task object itself
)
