"""MJ-proxy requests -> Submissions (a native face swap), tasks -> the camelCase Task."""

from __future__ import annotations

import math
from typing import Any

from faceport.accounts import Caller
from faceport.api.dialect import dialect_tasks, epoch_ms, failure, given_url, result_url
from faceport.api.mjproxy import DIALECT
from faceport.api.mjproxy.schemas import MjQueryRequest, SwapFaceRequest
from faceport.errors import ValidationFailed
from faceport.inputs import GivenInput
from faceport.service import Queries, Services, Submission, submit
from faceport.tasks import Task, TaskParams, TaskStatus


def _image(base64: str | None, url: str | None, missing: str) -> GivenInput:
    if base64:
        return GivenInput(base64=base64)
    if url:
        return given_url(url)
    raise ValidationFailed(missing)


def submit_swap(
    svc: Services, caller: Caller, request: SwapFaceRequest, idempotency_key: str | None
) -> Task:
    """Queue the swap; `state` is kept on the task, `notifyHook` gets the final Task."""
    source = _image(request.sourceBase64, request.sourceUrl, "人脸图片不能为空")
    target = _image(request.targetBase64, request.targetUrl, "目标图片不能为空")
    if source == target:
        raise ValidationFailed("人脸图片和目标图片不能相同")
    submission = Submission(
        operation="face_swap",
        params=TaskParams(),
        inputs={"source": source, "target": target},
        asked=request.model_dump(mode="json"),
        metadata={"state": request.state} if request.state is not None else None,
        notify_url=request.notifyHook or None,
        dialect=DIALECT,
    )
    return submit(svc, caller, submission, idempotency_key=idempotency_key)


def submitted(svc: Services, task: Task) -> dict[str, Any]:
    """SubmitResultVO: code 1, or 22 when the caller's earlier tasks are still queued."""
    ahead = sum(
        1
        for other in dialect_tasks(svc, task.account_id, DIALECT, TaskStatus.QUEUED)
        if other.id < task.id
    )
    if task.status is TaskStatus.QUEUED and ahead:
        return {
            "code": 22,
            "description": f"排队中，前面还有{ahead}个任务",  # noqa: RUF001 (the family's text)
            "result": task.id,
            "properties": {"numberOfQueues": ahead},
        }
    return {"code": 1, "description": "提交成功", "result": task.id, "properties": {}}


_STATUS = {
    TaskStatus.QUEUED: "NOT_START",
    TaskStatus.RUNNING: "IN_PROGRESS",
    TaskStatus.SUCCEEDED: "SUCCESS",
    TaskStatus.FAILED: "FAILURE",
    TaskStatus.CANCELED: "FAILURE",
}


def _progress(task: Task) -> str:
    if task.status is TaskStatus.SUCCEEDED:
        return "100%"
    if task.status in (TaskStatus.FAILED, TaskStatus.CANCELED):
        return ""
    return f"{task.progress}%"


def task_object(svc: Queries, task: Task) -> dict[str, Any]:
    """The Task of fetch, the lists and the notifyHook body."""
    failed = task.status in (TaskStatus.FAILED, TaskStatus.CANCELED)
    return {
        "id": task.id,
        "action": "SWAP_FACE",
        "status": _STATUS[task.status],
        "prompt": "",
        "promptEn": "",
        "description": "/insight-face/swap",
        "state": (task.metadata or {}).get("state"),
        "submitTime": epoch_ms(task, "created_at"),
        "startTime": epoch_ms(task, "started_at"),
        "finishTime": epoch_ms(task, "finished_at"),
        "progress": _progress(task),
        "imageUrl": result_url(svc, task),
        "failReason": failure(task)[1] if failed else None,
        "properties": {},
        "buttons": [],
    }


def _matches(view: dict[str, Any], query: MjQueryRequest) -> bool:
    wanted: dict[str, Any] = {
        key: getattr(query, key)
        for key in ("id", "status", "action", "state", "description", "failReason")
        if getattr(query, key) is not None
    }
    if any(view[key] != value for key, value in wanted.items()):
        return False
    if query.ids is not None and view["id"] not in query.ids:
        return False
    return query.statusSet is None or view["status"] in query.statusSet


def query_page(svc: Queries, account_id: str, query: MjQueryRequest) -> dict[str, Any]:
    """A Spring Data page of the caller's tasks that match the query's filters."""
    views = [task_object(svc, t) for t in dialect_tasks(svc, account_id, DIALECT)]
    found = [view for view in views if _matches(view, query)]
    field, _, direction = query.sort.partition(",")
    key = field if field in ("id", "submitTime", "startTime", "finishTime", "status") else "id"
    found.sort(key=lambda view: str(view[key] or ""), reverse=direction.lower() != "asc")
    start = query.pageNumber * query.pageSize
    content = found[start : start + query.pageSize]
    pages = math.ceil(len(found) / query.pageSize)
    return {
        "content": content,
        "totalElements": len(found),
        "totalPages": pages,
        "number": query.pageNumber,
        "size": query.pageSize,
        "numberOfElements": len(content),
        "first": query.pageNumber == 0,
        "last": query.pageNumber >= pages - 1,
    }
