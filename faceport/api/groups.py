"""The registry of route groups, and the one place that decides how an error looks on any
path: the resolver's errors, the caller check, the rate limit's 429, the local server's
body caps and the local gateway's 401 all ask `RouteGroups.render_error`. Adding a
dialect is adding its package and one entry in `ROUTE_GROUPS`. See docs/ARCHITECTURE.md,
"Error rendering"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faceport.api import ailab, apiinone, heygen, mjproxy, native, zhiqite
from faceport.api.route_group import ErrorAnswer, RouteGroup
from faceport.errors import FaceportError
from faceport.playground import is_playground_path

if TYPE_CHECKING:
    from faceport.service import Queries
    from faceport.tasks import Task

# Paths anyone may call (the API's documentation, and the playground's pages: see
# `faceport.playground`); every other path needs an API key.
PUBLIC_PATHS = frozenset({"/docs", "/openapi.json"})


@dataclass(frozen=True)
class RouteGroups:
    """The route groups of one API. The first is the default: it owns every path no other
    group's prefix matches (the root, unknown paths, `/docs`)."""

    groups: tuple[RouteGroup, ...]

    def for_path(self, path: str) -> RouteGroup:
        """The group owning `path`: the longest matching prefix, else the default."""
        matches = [
            (len(prefix), group)
            for group in self.groups
            for prefix in group.prefixes
            if path.startswith(prefix)
        ]
        return max(matches, key=lambda match: match[0])[1] if matches else self.groups[0]

    def named(self, dialect: str) -> RouteGroup:
        """The group tasks of `dialect` came through (the default for an unknown name)."""
        return next((g for g in self.groups if g.name == dialect), self.groups[0])

    def render_error(self, path: str, error: FaceportError) -> ErrorAnswer:
        """How `error` looks on `path`."""
        return self.for_path(path).render_error(error)

    def needs_api_key(self, path: str) -> bool:
        """Whether a request to `path` must carry an API key."""
        bare = path.rstrip("/")
        if bare in PUBLIC_PATHS or is_playground_path(path):
            return False
        return bare not in self.for_path(path).public_paths

    def gateway_denies(self, path: str) -> bool:
        """Whether API Gateway's ACCESS_DENIED response may answer a refused key on `path`."""
        return self.for_path(path).gateway_denies

    def bare_events(self, dialect: str) -> bool:
        """Whether webhook bodies of `dialect`'s tasks are the task view itself."""
        return self.named(dialect).bare_events

    def prepare_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """The raw proxy event as the path's group wants it routed."""
        prepare = self.for_path(str(event.get("path") or "/")).prepare_event
        return prepare(event) if prepare else event

    def render_task(self, svc: Queries, task: Task) -> dict[str, Any]:
        """The task as its own dialect renders it (status answers, webhook event data)."""
        return self.named(task.dialect).render_task(svc, task)


# The native API first (the default group), then the five seed dialects
# (../shared/DIALECTS.md; docs/ARCHITECTURE.md, "Dialects").
ROUTE_GROUPS = RouteGroups(
    (native.GROUP, apiinone.GROUP, zhiqite.GROUP, mjproxy.GROUP, heygen.GROUP, ailab.GROUP)
)
