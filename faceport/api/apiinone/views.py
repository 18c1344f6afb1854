"""API in One requests -> Submissions (a native face swap), tasks -> its task answer."""

from __future__ import annotations

from typing import Any

from faceport.accounts import Caller
from faceport.api.apiinone import DIALECT
from faceport.api.apiinone.schemas import ApiInOneSwapRequest
from faceport.api.dialect import failure, given_url, result_url
from faceport.service import Queries, Services, Submission, submit
from faceport.tasks import OutputFormat, Task, TaskParams, TaskStatus

MODEL = "face-swap"


def submit_face_swap(
    svc: Services, caller: Caller, request: ApiInOneSwapRequest, idempotency_key: str | None
) -> Task:
    """Queue the swap: `image` is the target, `face_image` the source."""
    output_format: OutputFormat = (
        "jpg" if request.output_format == "jpeg" else request.output_format
    )
    submission = Submission(
        operation="face_swap",
        params=TaskParams(target_index=request.target_index, output_format=output_format),
        inputs={"source": given_url(request.face_image), "target": given_url(request.image)},
        asked=request.model_dump(mode="json"),
        notify_url=request.callback_url,
        dialect=DIALECT,
    )
    return submit(svc, caller, submission, idempotency_key=idempotency_key)


def created(task: Task) -> dict[str, Any]:
    """The submit answer (the model page's shape)."""
    data = {
        "task_id": task.id,
        "status": "IN_PROGRESS",
        "model": MODEL,
        "created_at": _iso(task),
    }
    return {"code": 200, "message": "success", "data": data}


_STATUS = {
    TaskStatus.QUEUED: "created",
    TaskStatus.RUNNING: "processing",
    TaskStatus.SUCCEEDED: "completed",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELED: "failed",
}


def task_status(svc: Queries, task: Task) -> dict[str, Any]:
    """`GET /api/v1/tasks/{task_id}` (also a callback's event data)."""
    url = result_url(svc, task)
    data = {
        "task_id": task.id,
        "model": MODEL,
        "status": _STATUS[task.status],
        "outputs": [url] if url else [],
        "error": failure(task)[1],
        "created_at": _iso(task),
    }
    return {"code": 200, "message": "success", "data": data}


def _iso(task: Task) -> str:
    return task.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
