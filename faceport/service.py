"""What the API does, independent of HTTP: submit, look up, list and cancel tasks."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from faceport import billing
from faceport.accounts import Caller, Hold, IdempotencyClaim
from faceport.errors import (
    AccountNotFound,
    FaceportError,
    IdempotencyKeyInProgress,
    InsufficientCredits,
    InvalidBase64,
    InvalidIdempotencyKey,
    NotFound,
    NotifyUrlNotAllowed,
    TaskNotCancelable,
    UnsupportedMedia,
    UrlFetchFailed,
    UrlNotAllowed,
)
from faceport.media import (
    declared_video_seconds,
    decode_base64,
    inspect_image,
    inspect_video,
)
from faceport.ports import (
    AccountStore,
    BlobStore,
    Fetcher,
    Ledger,
    Orchestrator,
    RateLimiter,
    SigningSecretStore,
    TaskStore,
    WebhookOutbox,
)
from faceport.schemas import (
    AccountView,
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
    webhooks: WebhookOutbox
    signing_secrets: SigningSecretStore
    accounts: AccountStore
    ledger: Ledger
    rate_limiter: RateLimiter


def input_key(task_id: str, name: str) -> str:
    return f"inputs/{task_id}/{name}"


def submit_face_swap(
    svc: Services, caller: Caller, request: FaceSwapRequest, *, idempotency_key: str | None = None
) -> Task:
    """Queue a face swap (see `FaceSwapRequest`)."""
    params = TaskParams(
        target_index=request.target_index,
        face_map=request.face_map,
        output_format=request.output_format,
    )
    inputs = {"source": request.source, "target": request.target}
    return _submit(
        svc, caller, "face_swap", params, inputs, request, idempotency_key, request.metadata
    )


def submit_face_fusion(
    svc: Services,
    caller: Caller,
    request: FaceFusionRequest,
    *,
    idempotency_key: str | None = None,
) -> Task:
    """Queue a face fusion (see `FaceFusionRequest`)."""
    params = TaskParams(similarity=request.similarity, output_format=request.output_format)
    inputs = {"source": request.source, "target": request.target}
    return _submit(
        svc, caller, "face_fusion", params, inputs, request, idempotency_key, request.metadata
    )


def submit_video_face_swap(
    svc: Services,
    caller: Caller,
    request: VideoFaceSwapRequest,
    *,
    idempotency_key: str | None = None,
) -> Task:
    """Queue a video face swap (see `VideoFaceSwapRequest`). Only the size and container
    are checked here, and an inline MP4/MOV's declared length prices the hold; duration
    and resolution are probed by the workflow's prepare step, which fails the task with
    the limit's code before any face work (and lowers the hold to the video's real
    price)."""
    target_index = 0 if request.target_index is None else request.target_index
    inputs: dict[str, ImageInput | VideoInput] = {"source": request.source, "video": request.video}
    if request.reference_face is not None:
        inputs["reference_face"] = request.reference_face
    params = TaskParams(target_index=target_index)
    return _submit(
        svc, caller, "video_face_swap", params, inputs, request, idempotency_key, request.metadata
    )


def submit_face_detect(
    svc: Services,
    caller: Caller,
    request: FaceDetectRequest,
    *,
    idempotency_key: str | None = None,
) -> Task:
    """Queue a face detection; the API waits for it, so to clients it is synchronous."""
    inputs = {"image": request.image}
    return _submit(svc, caller, "face_detect", TaskParams(), inputs, request, idempotency_key, None)


def _submit(
    svc: Services,
    caller: Caller,
    operation: Operation,
    params: TaskParams,
    given: Mapping[str, ImageInput | VideoInput],
    request: FaceSwapRequest | FaceFusionRequest | VideoFaceSwapRequest | FaceDetectRequest,
    idempotency_key: str | None,
    metadata: dict[str, Any] | None,
) -> Task:
    """Check the inputs, reserve the price, store the task, start its workflow. Bad input
    raises a 4xx error before anything is stored or held. With an `idempotency_key` (the
    `Idempotency-Key` header, or a dialect's business id), a repeat of the same request
    returns the first task and holds nothing more."""
    if request.notify_url is not None:
        _check_notify_url(svc, request.notify_url)
    claim = _idempotency_claim(svc, operation, request, idempotency_key)
    task_id = new_task_id()
    inputs: dict[str, InputRef] = {}
    seconds: float | None = None  # a video's length, when its header can be read now
    for name, image in given.items():
        inputs[name], declared = _accept_input(svc, task_id, name, image)
        seconds = declared if declared is not None else seconds
    price = billing.price_of(svc.settings, operation, video_seconds=seconds)
    hold = Hold(caller.account_id, task_id, operation, price, caller.key_id)
    try:
        owner = svc.ledger.reserve(
            hold, idempotency=claim, max_active=svc.settings.max_active_tasks_per_key
        )
    except InsufficientCredits as exc:
        _drop_inputs(svc, inputs)
        reason = billing.hold_reason(svc.settings, operation, price, seconds)
        raise InsufficientCredits(f"{reason} {exc.message}", **exc.details) from None
    except FaceportError:
        _drop_inputs(svc, inputs)
        raise
    if owner != task_id:
        _drop_inputs(svc, inputs)
        return _replayed(svc, caller.account_id, owner)
    task = Task(
        id=task_id,
        account_id=caller.account_id,
        operation=operation,
        params=params,
        inputs=inputs,
        metadata=metadata,
        notify_url=request.notify_url,
        created_at=utcnow(),
        price=price,
    )
    try:
        svc.tasks.create(task)
    except BaseException:
        svc.ledger.abandon(caller.account_id, task_id)
        raise
    svc.orchestrator.start(task)
    return task


_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _idempotency_claim(
    svc: Services, operation: str, request: BaseModel, key: str | None
) -> IdempotencyClaim | None:
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise InvalidIdempotencyKey()
    fingerprint = billing.fingerprint(operation, request)
    return IdempotencyClaim(key=key, fingerprint=fingerprint, ttl_s=svc.settings.idempotency_ttl_s)


def _replayed(svc: Services, account_id: str, task_id: str, wait_s: float = 5.0) -> Task:
    """The task an earlier request with the same key made; it may be a moment from being
    written when the two requests raced."""
    deadline = time.monotonic() + wait_s
    while (task := svc.tasks.get(task_id)) is None:
        if time.monotonic() > deadline:
            raise IdempotencyKeyInProgress()
        time.sleep(0.02)
    if task.account_id != account_id:  # keys are per account; never show another's task
        raise NotFound(f"No task {task_id!r}.")
    return task


def _drop_inputs(svc: Services, inputs: dict[str, InputRef]) -> None:
    for ref in inputs.values():
        if ref.blob is not None:
            svc.blobs.delete(ref.blob)


def _accept_input(
    svc: Services, task_id: str, name: str, given: ImageInput | VideoInput
) -> tuple[InputRef, float | None]:
    """The input checked and stored (a URL only checked), and a video's declared length."""
    if given.url is not None:
        svc.fetcher.check(given.url)  # refuse early; the fetch itself checks again
        return InputRef(url=given.url), None
    assert given.base64 is not None
    limits = svc.settings
    seconds = None
    try:
        if isinstance(given, VideoInput):
            data = decode_base64(given.base64, limits.max_video_bytes)
            media_type = inspect_video(data, max_bytes=limits.max_video_bytes)
            seconds = declared_video_seconds(data)
        else:
            data = decode_base64(given.base64, limits.max_input_bytes)
            info = inspect_image(
                data, max_bytes=limits.max_input_bytes, max_pixels=limits.max_input_pixels
            )
            media_type = info.media_type
    except (InvalidBase64, UnsupportedMedia) as exc:  # say which input
        raise type(exc)(f"{name}: {exc.message}", **exc.details) from None
    key = input_key(task_id, name)
    svc.blobs.put(key, data, media_type)
    return InputRef(blob=key), seconds


def _check_notify_url(svc: Services, url: str) -> None:
    """The SSRF rules of input URLs; the sender checks again at every send (DNS changes)."""
    try:
        svc.fetcher.check(url)
    except (UrlNotAllowed, UrlFetchFailed) as exc:
        raise NotifyUrlNotAllowed(f"notify_url: {exc.message}", url=url) from exc


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
    billing.settle(svc.ledger, canceled)
    svc.orchestrator.cancel(task_id)
    return canceled


def get_account(svc: Services, caller: Caller) -> AccountView:
    """The caller's account: credits and what they were spent on."""
    account = svc.accounts.get_account(caller.account_id)
    if account is None:
        raise AccountNotFound()
    return AccountView(
        id=account.id,
        name=account.name,
        balance=account.balance,
        reserved=account.reserved,
        available=account.available,
        usage=svc.ledger.usage(account.id),
        key_id=caller.key_id,
    )


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
        price=task.price,
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
