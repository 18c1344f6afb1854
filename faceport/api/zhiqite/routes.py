"""Zhiqite's routes: the roop tool and its task query."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from faceport import service
from faceport.api import dialect
from faceport.api.zhiqite import views
from faceport.api.zhiqite.schemas import RoopQueryRequest, RoopRequest, ToolTaskAnswer
from faceport.service import Queries, Services

TAG = "Zhiqite (roop)"
# The submit waits this long for the swap, so a quick one answers its final record (the
# seed's example) and stays well below API Gateway's 29 s.
SUBMIT_WAIT_S = 20
_ANSWER: dict[int, Any] = {
    200: {"description": "The task", "content": {"application/json": {"model": ToolTaskAnswer}}}
}


def router(svc: Services) -> APIGatewayRouter:
    """Zhiqite's routes, bound to one set of services (the submit first: the reference's
    examples run in the document's order, and the query's finds the submit's task)."""
    router = APIGatewayRouter()

    @router.post(
        "/AIGCImgOpenServ/saas/tool/roop",
        summary="Single face swap V1.0 (Zhiqite)",
        description=(
            "Swap `sourceUrl`'s face onto `targetUrl`. Answers the final record when the "
            f"swap ends within {SUBMIT_WAIT_S} s, else `status` 0: query with the "
            "`businessTaskId`."
        ),
        responses=_ANSWER,
        tags=[TAG],
    )
    def roop(request: RoopRequest) -> Response[str]:
        task = views.submit_roop(svc, dialect.caller(router), request)
        task = service.wait_for_task(svc, task, min(SUBMIT_WAIT_S, svc.settings.max_wait_s))
        return dialect.answer(200, views.record(svc, task))

    _query_routes(router, svc)
    return router


def query_router(svc: Queries) -> APIGatewayRouter:
    """Zhiqite's task query (the status Lambda's): a POST that only reads."""
    router = APIGatewayRouter()
    _query_routes(router, svc)
    return router


def _query_routes(router: APIGatewayRouter, svc: Queries) -> None:
    @router.post(
        "/AIGCImgOpenServ/saas/tool/roop/queryTask",
        summary="Query a roop task by businessTaskId (Zhiqite)",
        responses=_ANSWER,
        tags=[TAG],
    )
    def query_task(request: RoopQueryRequest) -> Response[str]:
        account_id = dialect.caller(router).account_id
        task = views.find_task(svc, account_id, request.businessTaskId)
        return dialect.answer(200, views.record(svc, task))
