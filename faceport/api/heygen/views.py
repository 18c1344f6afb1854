"""HeyGen requests -> Submissions (a native video face swap), tasks -> executions."""

from __future__ import annotations

from typing import Any

from faceport.accounts import Caller
from faceport.api.dialect import failure, given_url, result_url
from faceport.api.heygen import DIALECT
from faceport.api.heygen.schemas import FaceswapInput
from faceport.service import Queries, Services, Submission, submit
from faceport.tasks import Task, TaskParams, TaskStatus


def submit_faceswap(
    svc: Services, caller: Caller, given: FaceswapInput, idempotency_key: str | None
) -> Task:
    """Queue the video face swap (the largest face of the source, default face choice)."""
    submission = Submission(
        operation="video_face_swap",
        params=TaskParams(target_index=0),
        inputs={
            "source": given_url(given.source_image_url),
            "video": given_url(given.target_video_url),
        },
        asked={"workflow_type": "FaceswapNode", "input": given.model_dump(mode="json")},
        dialect=DIALECT,
    )
    return submit(svc, caller, submission, idempotency_key=idempotency_key)


_STATUS = {
    TaskStatus.QUEUED: "submitted",
    TaskStatus.RUNNING: "processing",
    TaskStatus.SUCCEEDED: "completed",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELED: "failed",
}


def execution(svc: Queries, task: Task) -> dict[str, Any]:
    """`GET /v1/workflows/executions/{id}`'s answer for a task."""
    data: dict[str, Any] = {"execution_id": task.id, "status": _STATUS[task.status]}
    if task.status is TaskStatus.RUNNING:
        data["progress"] = task.progress
    elif task.status is TaskStatus.SUCCEEDED:
        data["output"] = {"video_url": result_url(svc, task)}
    elif task.status in (TaskStatus.FAILED, TaskStatus.CANCELED):
        code, message = failure(task)
        data["error"] = {"code": code, "message": message}
    return {"data": data}


def not_found(execution_id: str) -> dict[str, Any]:
    """An unknown or foreign id: a state of the resource (the seed's clients read it from
    the JSON without looking at the HTTP status)."""
    return {"data": {"execution_id": execution_id, "status": "not_found"}}
