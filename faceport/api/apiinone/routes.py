"""API in One's routes: submit a face swap, read a task."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from faceport.api import dialect
from faceport.api.apiinone import DIALECT, views
from faceport.api.apiinone.schemas import ApiInOneSwapRequest, CreatedAnswer, TaskAnswer
from faceport.service import Queries, Services

TAG = "API in One"


def _doc(model: type[BaseModel]) -> dict[int, Any]:
    return {200: {"description": "OK", "content": {"application/json": {"model": model}}}}


def router(svc: Services) -> APIGatewayRouter:
    """API in One's routes, bound to one set of services."""
    router = query_router(svc)

    @router.post(
        "/api/v1/images/tools/face-swap",
        summary="Face swap (API in One)",
        description="Queue a swap of `face_image`'s face onto `image`; poll the task.",
        responses=_doc(CreatedAnswer),
        tags=[TAG],
    )
    def face_swap(request: ApiInOneSwapRequest) -> Response[str]:
        caller = dialect.caller(router)
        task = views.submit_face_swap(svc, caller, request, dialect.idempotency_key(router))
        return dialect.answer(200, views.created(task))

    return router


def query_router(svc: Queries) -> APIGatewayRouter:
    """API in One's task query (the status Lambda's)."""
    router = APIGatewayRouter()

    @router.get(
        "/api/v1/tasks/<task_id>",
        summary="Task status and result (API in One)",
        responses=_doc(TaskAnswer),
        tags=[TAG],
    )
    def get_task(task_id: str) -> Response[str]:
        task = dialect.own_task(svc, dialect.caller(router).account_id, task_id, DIALECT)
        return dialect.answer(200, views.task_status(svc, task))

    return router
