"""Midjourney-proxy's InsightFace swap (seed mjproxy-insightface-swap.txt) and the family's
task routes: fetch, lists, queue, paged query, cancel; `notifyHook` gets the bare Task."""

from __future__ import annotations

from faceport.api.mjproxy import errors
from faceport.api.route_group import ApiRoute, RouteGroup, RouteKind, lazy

DIALECT = "mjproxy"
# trueai's speed-mode prefixes lead to the same routes (the mode is ignored).
MODE_PREFIXES = ("", "/mj-fast", "/mj-turbo", "/mj-relax")


def documented(mode: str) -> bool:
    """Whether the routes under `mode` are in the OpenAPI reference: only the plain `/mj`
    ones; the speed-mode aliases are served, not listed three times more."""
    return mode == ""


# Under each prefix; a cancel writes the task, the rest only read.
_ROUTES: tuple[tuple[str, str, RouteKind], ...] = (
    ("POST", "/mj/insight-face/swap", "submit"),
    ("POST", "/mj/task/{task_id}/cancel", "submit"),
    ("GET", "/mj/task/{task_id}/fetch", "query"),
    ("POST", "/mj/task/list-by-condition", "query"),
    ("POST", "/mj/task/list-by-ids", "query"),
    ("GET", "/mj/task/list", "query"),
    ("GET", "/mj/task/queue", "query"),
    ("POST", "/mj/task/query", "query"),
    ("GET", "/mj/task/{task_id}/image-seed", "query"),
)


GROUP = RouteGroup(
    name=DIALECT,
    prefixes=tuple(f"{mode}/mj/" for mode in MODE_PREFIXES),
    router=lazy("faceport.api.mjproxy.routes", "router"),
    query_router=lazy("faceport.api.mjproxy.routes", "query_router"),
    routes=tuple(
        ApiRoute(method, f"{mode}{path}", kind, documented=documented(mode))
        for mode in MODE_PREFIXES
        for method, path, kind in _ROUTES
    ),
    render_error=errors.render_error,
    render_task=lazy("faceport.api.mjproxy.views", "task_object"),
    bare_events=True,  # notifyHook receives the Task object itself
)
