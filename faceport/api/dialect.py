"""What every seed dialect's routes share: the caller, JSON answers, URL inputs, the
dialect's own tasks and its result links (what their error renderers share is in
`faceport.api.route_group`). Each dialect package
(`faceport.api.<dialect>`) keeps its own schemas, views and envelope; see
docs/ARCHITECTURE.md, "Dialects"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from faceport import service
from faceport.accounts import Caller
from faceport.errors import NotFound
from faceport.inputs import GivenInput
from faceport.service import Queries
from faceport.tasks import Task, TaskStatus

MAX_URL_CHARS = 2048


def _bounded_url(value: str) -> str:
    if value[:5].lower() != "data:" and len(value) > MAX_URL_CHARS:
        raise ValueError(f"a URL has at most {MAX_URL_CHARS} characters")
    return value


# An input URL as the seeds send it; a data: URI is taken too (it costs nothing; its
# bytes meet the input byte cap instead of the URL length).
InputUrl = Annotated[str, Field(pattern=r"^(?i:https?://|data:)"), AfterValidator(_bounded_url)]
CallbackUrl = Annotated[str, Field(max_length=MAX_URL_CHARS)]
# Scans of a dialect's tasks (lists, queues, paged queries) stop after this many.
MAX_SCANNED_TASKS = 1000


class Lenient(BaseModel):
    """A dialect body: fields faceport does not use are ignored, not refused (clients send
    them; docs/ARCHITECTURE.md, "Dialects")."""

    model_config = ConfigDict(extra="ignore")


def caller(router: APIGatewayRouter) -> Caller:
    """Who the request acts for (the resolver's middleware put it there)."""
    found: Caller = router.context["caller"]
    return found


def idempotency_key(router: APIGatewayRouter) -> str | None:
    """The request's `Idempotency-Key`, honoured on every dialect submit."""
    key: str | None = router.current_event.headers.get("idempotency-key")
    return key


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    """A JSON answer."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers,
    )


def given_url(url: str) -> GivenInput:
    """A URL input as given: fetched later exactly as written, or a data: URI decoded now."""
    if url[:5].lower() == "data:":
        return GivenInput(base64=url)
    return GivenInput(url=url)


def own_task(svc: Queries, account_id: str, task_id: str, dialect: str) -> Task:
    """The caller's task made through `dialect`; any other is "not found"."""
    task = service.get_task(svc, account_id, task_id)
    if task.dialect != dialect:
        raise NotFound(f"No task {task_id!r}.")
    return task


def dialect_tasks(
    svc: Queries, account_id: str, dialect: str, status: TaskStatus | None = None
) -> Iterator[Task]:
    """The caller's tasks made through `dialect`, newest first (at most MAX_SCANNED_TASKS
    looked at: the store lists by account, not by dialect)."""
    cursor: str | None = None
    scanned = 0
    while scanned < MAX_SCANNED_TASKS:
        page = service.list_tasks(svc, account_id, status=status, limit=100, cursor=cursor)
        scanned += len(page.tasks)
        yield from (task for task in page.tasks if task.dialect == dialect)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def result_url(svc: Queries, task: Task) -> str | None:
    """An absolute, expiring link to the task's result file (no key needed to fetch it)."""
    if task.status is not TaskStatus.SUCCEEDED or not task.result_key:
        return None
    return svc.blobs.url_for(task.result_key, svc.settings.result_url_ttl_s)


def epoch_ms(task: Task, field: str) -> int | None:
    """A task timestamp as epoch milliseconds."""
    value = getattr(task, field)
    return None if value is None else int(value.timestamp() * 1000)


def failure(task: Task) -> tuple[str, str]:
    """(code, message) of a task that did not succeed; a canceled one says "canceled"."""
    if task.status is TaskStatus.CANCELED:
        return "canceled", "canceled"
    if task.error is None:
        return "", ""
    return task.error.code, task.error.message
