"""MJ-proxy's routes, under `/mj` and the speed-mode prefixes: the InsightFace swap and the
family's task routes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from faceport import service
from faceport.api import dialect
from faceport.api.mjproxy import DIALECT, MODE_PREFIXES, documented, views
from faceport.api.mjproxy.schemas import (
    IdsRequest,
    MjQueryRequest,
    MjTask,
    SubmitResult,
    SwapFaceRequest,
    TaskPage,
)
from faceport.errors import TaskNotCancelable
from faceport.service import Queries, Services
from faceport.tasks import ACTIVE

TAG = "MJ-proxy (InsightFace)"


def _doc(model: Any) -> dict[int, Any]:
    return {200: {"description": "OK", "content": {"application/json": {"model": model}}}}


def router(svc: Services) -> APIGatewayRouter:
    """MJ-proxy's routes, bound to one set of services (once per speed-mode prefix; only
    the plain `/mj` ones are in the OpenAPI document)."""
    router = query_router(svc)
    for mode in MODE_PREFIXES:
        _submit_routes(router, svc, mode)
    return router


def query_router(svc: Queries) -> APIGatewayRouter:
    """MJ-proxy's task queries (the status Lambda's), once per speed-mode prefix."""
    router = APIGatewayRouter()
    for mode in MODE_PREFIXES:
        _task_routes(router, svc, mode)
        _list_routes(router, svc, mode)
    return router


def _kw(mode: str, summary: str, model: type[BaseModel] | Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "responses": _doc(model),
        "tags": [TAG],
        "include_in_schema": documented(mode),
    }


def _submit_routes(router: APIGatewayRouter, svc: Services, mode: str) -> None:
    @router.post(
        f"{mode}/mj/insight-face/swap", **_kw(mode, "Submit a swap_face task", SubmitResult)
    )
    def swap(request: SwapFaceRequest) -> Response[str]:
        caller = dialect.caller(router)
        task = views.submit_swap(svc, caller, request, dialect.idempotency_key(router))
        return dialect.answer(200, views.submitted(svc, task))

    # A cancel writes the task: the submit Lambda's.
    @router.post(f"{mode}/mj/task/<task_id>/cancel", **_kw(mode, "Cancel a task", SubmitResult))
    def cancel(task_id: str) -> Response[str]:
        task = dialect.own_task(svc, dialect.caller(router).account_id, task_id, DIALECT)
        try:
            service.cancel_task(svc, task.account_id, task.id)
        except TaskNotCancelable:
            return dialect.answer(200, {"code": 4, "description": "task already finished"})
        return dialect.answer(200, {"code": 1, "description": "成功"})


def _task_routes(router: APIGatewayRouter, svc: Queries, mode: str) -> None:
    def own(task_id: str) -> Any:
        return dialect.own_task(svc, dialect.caller(router).account_id, task_id, DIALECT)

    @router.get(f"{mode}/mj/task/<task_id>/fetch", **_kw(mode, "Fetch a task", MjTask))
    def fetch(task_id: str) -> Response[str]:
        return dialect.answer(200, views.task_object(svc, own(task_id)))

    @router.get(
        f"{mode}/mj/task/<task_id>/image-seed",
        **_kw(mode, "Image seed (not supported)", SubmitResult),
    )
    def image_seed(task_id: str) -> Response[str]:
        own(task_id)
        return dialect.answer(200, {"code": 4, "description": "not supported"})


def _list_routes(router: APIGatewayRouter, svc: Queries, mode: str) -> None:
    def tasks(**kwargs: Any) -> list[Any]:
        account_id = dialect.caller(router).account_id
        return list(dialect.dialect_tasks(svc, account_id, DIALECT, **kwargs))

    def by_ids(request: IdsRequest) -> Response[str]:
        account_id = dialect.caller(router).account_id
        found = []
        for task_id in dict.fromkeys(request.ids or []):
            task = svc.tasks.get(task_id)
            if task and task.account_id == account_id and task.dialect == DIALECT:
                found.append(views.task_object(svc, task))
        return dialect.answer(200, found)

    @router.post(f"{mode}/mj/task/list-by-condition", **_kw(mode, "Tasks by ids", list[MjTask]))
    def list_by_condition(request: IdsRequest) -> Response[str]:
        return by_ids(request)

    @router.post(f"{mode}/mj/task/list-by-ids", **_kw(mode, "Tasks by ids", list[MjTask]))
    def list_by_ids(request: IdsRequest) -> Response[str]:
        return by_ids(request)

    @router.get(f"{mode}/mj/task/list", **_kw(mode, "The newest 100 tasks", list[MjTask]))
    def list_all() -> Response[str]:
        return dialect.answer(200, [views.task_object(svc, t) for t in tasks()[:100]])

    @router.get(
        f"{mode}/mj/task/queue", **_kw(mode, "Unfinished tasks, oldest first", list[MjTask])
    )
    def queue() -> Response[str]:
        active = [t for t in tasks() if t.status in ACTIVE]
        active.sort(key=lambda t: t.created_at)
        return dialect.answer(200, [views.task_object(svc, t) for t in active])

    @router.post(f"{mode}/mj/task/query", **_kw(mode, "Paged query", TaskPage))
    def query(request: MjQueryRequest) -> Response[str]:
        account_id = dialect.caller(router).account_id
        return dialect.answer(200, views.query_page(svc, account_id, request))
