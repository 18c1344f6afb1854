"""What the API does, independent of HTTP: submit, look up, list and cancel tasks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from faceport.errors import NotFound, TaskNotCancelable
from faceport.media import decode_base64, inspect_image, inspect_video
from faceport.ports import BlobStore, Fetcher, Orchestrator, TaskStore
from faceport.schemas import (
    ErrorInfo,
    FaceDetectRequest,
    FaceFusionRequest,
    FaceSwapRequest,
    ImageInput,
    ResultInfo,
    TaskList,
    TaskView,
    Timings,
    VideoFaceSwapRequest,
    VideoInput,
)
from faceport.settings import Settings
from faceport.tasks import (
    ACTIVE,
    InputRef,
    Operation,
    Task,
    TaskParams,
    TaskStatus,
    new_task_id,
    result_media,
    utcnow,
)


@dataclass(frozen=True)
class Services:
    """The ports the API needs, wired once per process (no engine here, on purpose)."""

    settings: Settings
    tasks: TaskStore
    blobs: BlobStore
    orchestrator: Orchestrator
    fetcher: Fetcher


def input_key(task_id: str, name: str) -> str:
    return f"inputs/{task_id}/{name}"


def submit_face_swap(svc: Services, account_id: str, request: FaceSwapRequest) -> Task:
    """Queue a face swap (see `FaceSwapRequest`)."""
    params = TaskParams(
        target_index=request.target_index,
        face_map=request.face_map,
        output_format=request.output_format,
    )
    inputs = {"source": request.source, "target": request.target}
    return _submit(svc, account_id, "face_swap", params, inputs, request.metadata)


def submit_face_fusion(svc: Services, account_id: str, request: FaceFusionRequest) -> Task:
    """Queue a face fusion (see `FaceFusionRequest`)."""
    params = TaskParams(similarity=request.similarity, output_format=request.output_format)
    inputs = {"source": request.source, "target": request.target}
    return _submit(svc, account_id, "face_fusion", params, inputs, request.metadata)


def submit_video_face_swap(svc: Services, account_id: str, request: VideoFaceSwapRequest) -> Task:
    """Queue a video face swap (see `VideoFaceSwapRequest`). Only the size and container
    are checked here; duration and resolution are probed by the workflow's prepare step,
    which fails the task with the limit's code before any face work."""
    target_index = 0 if request.target_index is None else request.target_index
    inputs: dict[str, ImageInput | VideoInput] = {"source": request.source, "video": request.video}
    if request.reference_face is not None:
        inputs["reference_face"] = request.reference_face
    params = TaskParams(target_index=target_index)
    return _submit(svc, account_id, "video_face_swap", params, inputs, request.metadata)


def submit_face_detect(svc: Services, account_id: str, request: FaceDetectRequest) -> Task:
    """Queue a face detection; the API waits for it, so to clients it is synchronous."""
    return _submit(svc, account_id, "face_detect", TaskParams(), {"image": request.image}, None)


def _submit(
    svc: Services,
    account_id: str,
    operation: Operation,
    params: TaskParams,
    given: Mapping[str, ImageInput | VideoInput],
    metadata: dict[str, Any] | None,
) -> Task:
    """Check the inputs, store the task, start its workflow. Bad input raises a 4xx error
    before the task is stored."""
    task_id = new_task_id()
    inputs = {name: _accept_input(svc, task_id, name, image) for name, image in given.items()}
    task = Task(
        id=task_id,
        account_id=account_id,
        operation=operation,
        params=params,
        inputs=inputs,
        metadata=metadata,
        created_at=utcnow(),
    )
    svc.tasks.create(task)
    svc.orchestrator.start(task)
    return task


def _accept_input(
    svc: Services, task_id: str, name: str, given: ImageInput | VideoInput
) -> InputRef:
    if given.url is not None:
        svc.fetcher.check(given.url)  # refuse early; the fetch itself checks again
        return InputRef(url=given.url)
    assert given.base64 is not None
    limits = svc.settings
    if isinstance(given, VideoInput):
        data = decode_base64(given.base64, limits.max_video_bytes)
        media_type = inspect_video(data, max_bytes=limits.max_video_bytes)
    else:
        data = decode_base64(given.base64, limits.max_input_bytes)
        info = inspect_image(
            data, max_bytes=limits.max_input_bytes, max_pixels=limits.max_input_pixels
        )
        media_type = info.media_type
    key = input_key(task_id, name)
    svc.blobs.put(key, data, media_type)
    return InputRef(blob=key)


def get_task(svc: Services, account_id: str, task_id: str) -> Task:
    """The task, if it exists and belongs to the account (404 either way, never 403)."""
    task = svc.tasks.get(task_id)
    if task is None or task.account_id != account_id:
        raise NotFound(f"No task {task_id!r}.")
    return task


def wait_for_task(svc: Services, task: Task, wait_s: float) -> Task:
    """The task once it ends, or as it is after `wait_s` seconds."""
    return svc.tasks.wait_until_done(task.id, wait_s) or task


def list_tasks(
    svc: Services, account_id: str, *, status: TaskStatus | None, limit: int, cursor: str | None
) -> TaskList:
    page = svc.tasks.list(account_id, status=status, limit=limit, cursor=cursor)
    return TaskList(data=[render_task(svc, t) for t in page.tasks], next_cursor=page.next_cursor)


def cancel_task(svc: Services, account_id: str, task_id: str) -> Task:
    """Cancel a queued or running task; a task that already ended is a 409."""
    get_task(svc, account_id, task_id)
    canceled = svc.tasks.update_if(
        task_id, ACTIVE, status=TaskStatus.CANCELED, finished_at=utcnow()
    )
    if canceled is None:
        raise TaskNotCancelable()
    svc.orchestrator.cancel(task_id)
    return canceled


def render_task(svc: Services, task: Task) -> TaskView:
    """The client's view of a task, with a fresh download link when it has a result."""
    result = None
    if task.status is TaskStatus.SUCCEEDED and task.result_key:
        ttl = svc.settings.result_url_ttl_s
        result = ResultInfo(
            url=svc.blobs.url_for(task.result_key, ttl),
            expires_at=utcnow() + timedelta(seconds=ttl),
            content_type=result_media(task)[1],
        )
    elif task.status is TaskStatus.SUCCEEDED and task.result_data is not None:
        result = ResultInfo.model_validate(task.result_data)
    return TaskView(
        id=task.id,
        operation=task.operation,
        status=task.status,
        progress=task.progress,
        params=task.params.model_dump(include=_PUBLIC_PARAMS[task.operation], exclude_none=True),
        metadata=task.metadata,
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        timings=Timings(
            queued_ms=_ms_between(task.created_at, task.started_at),
            run_ms=_ms_between(task.started_at, task.finished_at),
            total_ms=_ms_between(task.created_at, task.finished_at),
        ),
        result=result,
        error=ErrorInfo(code=task.error.code, message=task.error.message) if task.error else None,
        video=task.video,
    )


# The options each operation takes, as clients see them on the task.
_PUBLIC_PARAMS: dict[str, set[str]] = {
    "face_swap": {"target_index", "face_map", "output_format"},
    "face_fusion": {"similarity", "output_format"},
    "face_detect": set(),
    "video_face_swap": {"target_index"},
}


def _ms_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() * 1000)
