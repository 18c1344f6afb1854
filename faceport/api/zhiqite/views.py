"""Zhiqite requests -> Submissions (a native face swap), tasks -> its tool-task record."""

from __future__ import annotations

from typing import Any

from faceport.accounts import Caller
from faceport.api.dialect import failure, given_url, result_url
from faceport.api.zhiqite import DIALECT
from faceport.api.zhiqite.schemas import RoopRequest
from faceport.errors import NotFound
from faceport.service import Queries, Services, Submission, get_task, submit
from faceport.tasks import Task, TaskParams, TaskStatus

TOOL = "roop"


def business_key(business_task_id: str) -> str:
    """The idempotency key a business id claims (per account and tool)."""
    return f"zhiqite:{TOOL}:{business_task_id}"


def submit_roop(svc: Services, caller: Caller, request: RoopRequest) -> Task:
    """Queue the swap; the same `businessTaskId` and body again give the same task."""
    submission = Submission(
        operation="face_swap",
        params=TaskParams(),
        inputs={"source": given_url(request.sourceUrl), "target": given_url(request.targetUrl)},
        asked=request.model_dump(mode="json"),
        notify_url=request.callbackUrl,
        dialect=DIALECT,
    )
    key = business_key(request.businessTaskId)
    return submit(svc, caller, submission, idempotency_key=key)


def find_task(svc: Queries, account_id: str, business_task_id: str) -> Task:
    """The caller's task of `business_task_id` (while its idempotency key lives)."""
    task_id = svc.ledger.claimed_task(account_id, business_key(business_task_id))
    if task_id is None:
        raise NotFound()
    task = get_task(svc, account_id, task_id)
    if task.dialect != DIALECT:
        raise NotFound()
    return task


_STATUS = {TaskStatus.SUCCEEDED: 1, TaskStatus.FAILED: 2, TaskStatus.CANCELED: 2}


def record(svc: Queries, task: Task) -> dict[str, Any]:
    """The submit and query answer (also a callback's body data)."""
    data: dict[str, Any] = {
        "taskId": task.id,
        "toolTask": TOOL,
        "status": _STATUS.get(task.status, 0),
        "outputImageUrl": result_url(svc, task) or "",
    }
    if data["status"] == 2:
        data["desc"] = failure(task)[1]
    return {"code": "200", "msg": "success", "data": data}
