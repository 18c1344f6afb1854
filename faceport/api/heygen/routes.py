"""HeyGen's routes: start a FaceswapNode execution, read its status (and the older
`/v1/nodes/executions` pair)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from faceport.api import dialect
from faceport.api.heygen import DIALECT, views
from faceport.api.heygen.schemas import ExecutionAnswer, ExecutionRequest, NodeRequest
from faceport.errors import NotFound
from faceport.service import Queries, Services

TAG = "HeyGen (FaceswapNode)"
_ANSWER: dict[int, Any] = {
    200: {
        "description": "The execution",
        "content": {"application/json": {"model": ExecutionAnswer}},
    }
}


def router(svc: Services) -> APIGatewayRouter:
    """HeyGen's routes, bound to one set of services."""
    router = query_router(svc)

    def start(request: ExecutionRequest | NodeRequest) -> Response[str]:
        task = views.submit_faceswap(
            svc, dialect.caller(router), request.input, dialect.idempotency_key(router)
        )
        return dialect.answer(200, {"data": {"execution_id": task.id, "status": "submitted"}})

    @router.post(
        "/v1/workflows/executions",
        summary="Start a FaceswapNode execution",
        description="A video face swap; poll the status route until `completed`.",
        responses=_ANSWER,
        tags=[TAG],
    )
    def start_workflow(request: ExecutionRequest) -> Response[str]:
        return start(request)

    @router.post("/v1/nodes/executions", summary="Start (older node route)", tags=[TAG])
    def start_node(request: NodeRequest) -> Response[str]:
        return start(request)

    return router


def query_router(svc: Queries) -> APIGatewayRouter:
    """HeyGen's status routes (the status Lambda's)."""
    router = APIGatewayRouter()

    def status(execution_id: str) -> Response[str]:
        account_id = dialect.caller(router).account_id
        try:
            task = dialect.own_task(svc, account_id, execution_id, DIALECT)
        except NotFound:
            return dialect.answer(200, views.not_found(execution_id))
        return dialect.answer(200, views.execution(svc, task))

    @router.get(
        "/v1/workflows/executions/<execution_id>",
        summary="An execution's status",
        responses=_ANSWER,
        tags=[TAG],
    )
    def workflow_status(execution_id: str) -> Response[str]:
        return status(execution_id)

    @router.get("/v1/nodes/executions/<execution_id>", summary="Status (node route)", tags=[TAG])
    def node_status(execution_id: str) -> Response[str]:
        return status(execution_id)

    return router
