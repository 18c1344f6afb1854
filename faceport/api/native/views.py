"""The native API's side of the core: requests become `Submission`s, domain objects become
response bodies (`schemas.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from faceport.accounts import Account, Caller, Usage
from faceport.api.native.schemas import (
    AccountView,
    BackendView,
    DeliveryAttemptView,
    DeliveryList,
    DeliveryView,
    ErrorInfo,
    FaceDetectRequest,
    FaceFusionRequest,
    FaceSwapRequest,
    ImageInput,
    ResultInfo,
    SigningSecrets,
    SigningSecretView,
    TaskList,
    TaskView,
    Timings,
    VideoFaceSwapRequest,
    VideoInput,
)
from faceport.inputs import GivenInput
from faceport.operations import result_media, spec_of
from faceport.ports import TaskPage
from faceport.service import Queries, Services, Submission, submit
from faceport.tasks import Operation, Task, TaskParams, TaskStatus, utcnow
from faceport.webhooks import Delivery, SigningSecret

DIALECT = "native"

# --- requests -> submissions -----------------------------------------------------------


def _given(given: ImageInput | VideoInput) -> GivenInput:
    return GivenInput(url=given.url, base64=given.base64)


NativeRequest = FaceSwapRequest | FaceFusionRequest | VideoFaceSwapRequest | FaceDetectRequest


def _submit(
    svc: Services,
    caller: Caller,
    operation: Operation,
    params: TaskParams,
    inputs: Mapping[str, ImageInput | VideoInput],
    request: NativeRequest,
    idempotency_key: str | None,
) -> Task:
    submission = Submission(
        operation=operation,
        params=params,
        inputs={name: _given(given) for name, given in inputs.items()},
        asked=request.model_dump(mode="json"),
        metadata=None if isinstance(request, FaceDetectRequest) else request.metadata,
        notify_url=request.notify_url,
        dialect=DIALECT,
    )
    return submit(svc, caller, submission, idempotency_key=idempotency_key)


def submit_face_swap(
    svc: Services, caller: Caller, request: FaceSwapRequest, *, idempotency_key: str | None = None
) -> Task:
    """Queue a face swap (see `FaceSwapRequest`)."""
    params = TaskParams(
        target_index=request.target_index,
        face_map=request.face_map,
        output_format=request.output_format,
        enhance=request.enhance,
    )
    inputs = {"source": request.source, "target": request.target}
    return _submit(svc, caller, "face_swap", params, inputs, request, idempotency_key)


def submit_face_fusion(
    svc: Services, caller: Caller, request: FaceFusionRequest, *, idempotency_key: str | None = None
) -> Task:
    """Queue a face fusion (see `FaceFusionRequest`)."""
    params = TaskParams(similarity=request.similarity, output_format=request.output_format)
    inputs = {"source": request.source, "target": request.target}
    return _submit(svc, caller, "face_fusion", params, inputs, request, idempotency_key)


def submit_video_face_swap(
    svc: Services,
    caller: Caller,
    request: VideoFaceSwapRequest,
    *,
    idempotency_key: str | None = None,
) -> Task:
    """Queue a video face swap (see `VideoFaceSwapRequest`). Only the size and container
    are checked here; duration and resolution are probed by the workflow's prepare step,
    which fails the task with the limit's code before any face work (and lowers the hold
    to the video's real price)."""
    target_index = 0 if request.target_index is None else request.target_index
    inputs: dict[str, ImageInput | VideoInput] = {"source": request.source, "video": request.video}
    if request.reference_face is not None:
        inputs["reference_face"] = request.reference_face
    params = TaskParams(target_index=target_index, enhance=request.enhance)
    return _submit(svc, caller, "video_face_swap", params, inputs, request, idempotency_key)


def submit_face_detect(
    svc: Services, caller: Caller, request: FaceDetectRequest, *, idempotency_key: str | None = None
) -> Task:
    """Queue a face detection; the API waits for it, so to clients it is synchronous."""
    inputs = {"image": request.image}
    return _submit(svc, caller, "face_detect", TaskParams(), inputs, request, idempotency_key)


# --- domain objects -> bodies ------------------------------------------------------------


def task_view(svc: Queries, task: Task) -> TaskView:
    """The client's view of a task, with a fresh download link when it has a result."""
    return TaskView(
        id=task.id,
        operation=task.operation,
        status=task.status,
        progress=task.progress,
        params=task.params.model_dump(
            include=set(spec_of(task.operation).options), exclude_none=True
        ),
        metadata=task.metadata,
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        timings=Timings(
            queued_ms=_ms_between(task.created_at, task.started_at),
            run_ms=_ms_between(task.started_at, task.finished_at),
            total_ms=_ms_between(task.created_at, task.finished_at),
        ),
        price=task.price,
        result=_result(svc, task),
        error=ErrorInfo(code=task.error.code, message=task.error.message) if task.error else None,
        video=task.video,
        backend=_backend(task),
    )


def _backend(task: Task) -> BackendView | None:
    ref = task.backend
    return None if ref is None else BackendView(name=ref.name, task_id=ref.task_id)


def render_task(svc: Queries, task: Task) -> dict[str, Any]:
    """The task as `GET /v1/tasks/{id}` answers it, as JSON (also a webhook event's data)."""
    return task_view(svc, task).model_dump(mode="json")


def _result(svc: Queries, task: Task) -> ResultInfo | None:
    if task.status is not TaskStatus.SUCCEEDED:
        return None
    if task.result_key:
        ttl = svc.settings.result_url_ttl_s
        return ResultInfo(
            url=svc.blobs.url_for(task.result_key, ttl),
            expires_at=utcnow() + timedelta(seconds=ttl),
            content_type=result_media(task)[1],
        )
    if task.result_data is not None:
        return ResultInfo.model_validate(task.result_data)
    return None


def _ms_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() * 1000)


def task_list(svc: Queries, page: TaskPage) -> TaskList:
    return TaskList(data=[task_view(svc, t) for t in page.tasks], next_cursor=page.next_cursor)


def account_view(account: Account, usage: dict[str, Usage], caller: Caller) -> AccountView:
    return AccountView(
        id=account.id,
        name=account.name,
        balance=account.balance,
        reserved=account.reserved,
        available=account.available,
        usage=usage,
        key_id=caller.key_id,
    )


def delivery_view(delivery: Delivery) -> DeliveryView:
    return DeliveryView(
        event_id=delivery.event.id,
        type=delivery.event.type,
        url=delivery.event.url,
        status=delivery.status,
        next_attempt_at=delivery.next_attempt_at,
        attempts=[DeliveryAttemptView(**a.model_dump()) for a in delivery.history],
    )


def delivery_list(deliveries: list[Delivery]) -> DeliveryList:
    return DeliveryList(data=[delivery_view(d) for d in deliveries])


def secrets_view(secrets: list[SigningSecret]) -> SigningSecrets:
    return SigningSecrets(
        current=secrets[0].secret,
        secrets=[SigningSecretView(**s.model_dump()) for s in secrets],
    )
