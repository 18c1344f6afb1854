"""The native /v1 routes: a Powertools Router over the core, its bodies in `schemas.py`,
its translations in `views.py`. The resolver (`faceport.api.app`) authenticates every
request before a route runs and puts the caller in the context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from faceport import notify, service
from faceport.accounts import Caller
from faceport.api.native import views
from faceport.api.native.schemas import (
    AccountView,
    DeliveryList,
    DeliveryView,
    ErrorBody,
    FaceDetectRequest,
    FaceFusionRequest,
    FaceSwapRequest,
    RotateSecretRequest,
    SigningSecrets,
    TaskList,
    TaskView,
    VideoFaceSwapRequest,
)
from faceport.service import Queries, Services
from faceport.settings import PROVIDER_CALLBACK_PATH
from faceport.tasks import Task, TaskStatus


def _doc(description: str, model: type[BaseModel]) -> Any:
    """One OpenAPI response entry with a JSON body."""
    return {"description": description, "content": {"application/json": {"model": model}}}


_ERRORS: dict[int, Any] = {
    code: _doc(text, ErrorBody)
    for code, text in {
        400: "Malformed request",
        401: "Missing, unknown or revoked API key",
        404: "No such task",
        413: "Input too large",
        415: "Unsupported media",
        422: "Request does not match the schema",
        429: "Over the key's rate or unfinished-task limit (see Retry-After)",
    }.items()
}

# What a task submission answers: the task, finished (200) or still going (202), or an error.
_SUBMIT_RESPONSES: dict[int, Any] = {
    200: _doc("Finished within the preferred wait", TaskView),
    202: _doc("Accepted; poll the task", TaskView),
    402: _doc("Not enough credits", ErrorBody),
    **_ERRORS,
}
# The same key again returns the first task and charges once; another body is a 422.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a submit safely: the same key and body give the same task.",
    ),
]


def _json(status: int, model: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=model.model_dump_json(),
        headers=headers,
    )


@dataclass(frozen=True)
class _Native:
    """What every native route needs: its router (the caller is in its context) and the
    ports of a query (a submit route is given the full `Services` besides)."""

    router: APIGatewayRouter
    svc: Queries

    def caller(self) -> Caller:
        caller: Caller = self.router.context["caller"]
        return caller

    def submit(
        self,
        svc: Services,
        queue: Callable[..., Task],
        request: Any,
        idempotency_key: str | None,
        *,
        always_wait: bool = False,
    ) -> Response[str]:
        """Queue `request` with `queue` (a `views.submit_*`) for the caller; `accepted`."""
        task = queue(svc, self.caller(), request, idempotency_key=idempotency_key)
        return self.accepted(task, always_wait=always_wait)

    def accepted(self, task: Task, *, always_wait: bool = False) -> Response[str]:
        """A submit's answer: the task, inline (200) if it ends within the preferred wait."""
        svc = self.svc
        headers = {"Location": f"/v1/tasks/{task.id}"}
        wait: int | None = self.router.context.get("wait")  # read before the route ran
        if always_wait:
            task = service.wait_for_task(svc, task, wait or svc.settings.max_wait_s)
        elif wait is not None:
            task = service.wait_for_task(svc, task, wait)
            headers["Preference-Applied"] = f"wait={wait}"
        status = 200 if task.status.is_terminal else 202
        return _json(status, views.task_view(svc, task), headers)


def query_router(svc: Queries) -> APIGatewayRouter:
    """The native queries only (the status Lambda: reads and signed links, nothing more)."""
    native = _Native(APIGatewayRouter(), svc)
    for add_routes in (_account_and_task_routes, _list_routes):
        add_routes(native)
    return native.router


def router(svc: Services) -> APIGatewayRouter:
    """Every native route, bound to one set of services."""
    native = _Native(query_router(svc), svc)
    for add_commands in (
        _image_submit_routes,
        _video_and_detect_routes,
        _task_action_routes,
        _secret_routes,
        _provider_callback_route,
    ):
        add_commands(native, svc)
    return native.router


def _image_submit_routes(native: _Native, svc: Services) -> None:
    router = native.router

    @router.post(
        "/v1/face-swap",
        summary="Swap a face",
        description=(
            "Queue a face swap and answer 202 with the task. With `Prefer: wait=N` the "
            "finished task comes back inline (200) if it ends within N seconds."
        ),
        responses=_SUBMIT_RESPONSES,
        tags=["face swap"],
    )
    def face_swap(
        request: FaceSwapRequest, idempotency_key: IdempotencyKey = None
    ) -> Response[str]:
        return native.submit(svc, views.submit_face_swap, request, idempotency_key)

    @router.post(
        "/v1/face-fusion",
        summary="Fuse two faces",
        description=(
            "Blend the donor's face (`source`) into the template (`target`) by `similarity` "
            "(0: template unchanged, 1: the donor's face fully). Answers like face swap."
        ),
        responses=_SUBMIT_RESPONSES,
        tags=["face fusion"],
    )
    def face_fusion(
        request: FaceFusionRequest, idempotency_key: IdempotencyKey = None
    ) -> Response[str]:
        return native.submit(svc, views.submit_face_fusion, request, idempotency_key)


def _video_and_detect_routes(native: _Native, svc: Services) -> None:
    router = native.router

    @router.post(
        "/v1/video-face-swap",
        summary="Swap a face in a video",
        description=(
            "Queue a video face swap and answer 202 with the task; its `progress` moves "
            "as frames are done. The result is an H.264 MP4 with the video's frame timing "
            "and audio kept. Limits (file size, duration, resolution) are settings; a video "
            "over one fails with `input_too_large`, `video_too_long` or "
            "`video_resolution_too_high` before any face work."
        ),
        responses=_SUBMIT_RESPONSES,
        tags=["video face swap"],
    )
    def video_face_swap(
        request: VideoFaceSwapRequest, idempotency_key: IdempotencyKey = None
    ) -> Response[str]:
        return native.submit(svc, views.submit_video_face_swap, request, idempotency_key)

    @router.post(
        "/v1/face-detect",
        summary="Detect faces",
        description=(
            "Find every face: boxes, five landmarks, scores, and each face's index as "
            "`target_index` counts. Answers 200 with the finished task (`result.faces`)."
        ),
        responses={200: _doc("The finished detection", TaskView), **_ERRORS},
        tags=["face detection"],
    )
    def face_detect(
        request: FaceDetectRequest, idempotency_key: IdempotencyKey = None
    ) -> Response[str]:
        return native.submit(
            svc, views.submit_face_detect, request, idempotency_key, always_wait=True
        )


def _account_and_task_routes(native: _Native) -> None:
    router, svc = native.router, native.svc

    @router.get(
        "/v1/account",
        summary="Your account",
        description="Credits (balance, reserved for unfinished tasks, available) and usage.",
        responses={200: _doc("The account", AccountView), **_ERRORS},
        tags=["account"],
    )
    def account() -> Response[str]:
        account, usage = service.get_account(svc, native.caller())
        return _json(200, views.account_view(account, usage, native.caller()))

    @router.get(
        "/v1/tasks/<task_id>",
        summary="Get a task",
        responses={
            200: _doc("The task", TaskView),
            **_ERRORS,
        },
        tags=["tasks"],
    )
    def get_task(task_id: str) -> Response[str]:
        task = service.get_task(svc, native.caller().account_id, task_id)
        return _json(200, views.task_view(svc, task))


def _list_routes(native: _Native) -> None:
    router, svc = native.router, native.svc

    @router.get(
        "/v1/tasks",
        summary="List tasks, newest first",
        responses={
            200: _doc("A page of tasks", TaskList),
            **_ERRORS,
        },
        tags=["tasks"],
    )
    def list_tasks(
        status: Annotated[
            TaskStatus | None, Query(description="Only tasks in this status.")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[
            str | None, Query(description="`next_cursor` of the previous page.")
        ] = None,
    ) -> Response[str]:
        page = service.list_tasks(
            svc, native.caller().account_id, status=status, limit=limit, cursor=cursor
        )
        return _json(200, views.task_list(svc, page))

    @router.get(
        "/v1/tasks/<task_id>/deliveries",
        summary="List a task's webhook deliveries",
        description="Every event sent for the task, with every try: time, status, latency.",
        responses={200: _doc("The task's events and tries", DeliveryList), **_ERRORS},
        tags=["webhooks"],
    )
    def list_deliveries(task_id: str) -> Response[str]:
        deliveries = notify.list_deliveries(svc, native.caller().account_id, task_id)
        return _json(200, views.delivery_list(deliveries))


def _task_action_routes(native: _Native, svc: Services) -> None:
    router = native.router

    @router.post(
        "/v1/tasks/<task_id>/cancel",
        summary="Cancel a task",
        responses={
            200: _doc("The canceled task", TaskView),
            409: _doc("Already ended", ErrorBody),
            **_ERRORS,
        },
        tags=["tasks"],
    )
    def cancel_task(task_id: str) -> Response[str]:
        task = service.cancel_task(svc, native.caller().account_id, task_id)
        return _json(200, views.task_view(svc, task))

    @router.post(
        "/v1/tasks/<task_id>/deliveries/redeliver",
        summary="Send a task's final event again",
        description=(
            "Queue the final event again with the same `webhook-id` and a fresh result link; "
            "a new series of tries starts at once."
        ),
        responses={
            202: _doc("Queued", DeliveryView),
            409: _doc("The task has not ended or has no notify_url", ErrorBody),
            **_ERRORS,
        },
        tags=["webhooks"],
    )
    def redeliver(task_id: str) -> Response[str]:
        delivery = notify.redeliver(svc, native.caller().account_id, task_id)
        return _json(202, views.delivery_view(delivery))


def _secret_routes(native: _Native, svc: Services) -> None:
    router = native.router

    @router.get(
        "/v1/webhooks/secret",
        summary="Get the webhook signing secrets",
        description="Verify events with any secret listed (newest first).",
        responses={200: _doc("The secrets", SigningSecrets)},
        tags=["webhooks"],
    )
    def get_signing_secrets() -> Response[str]:
        secrets = notify.signing_secrets(svc.signing_secrets, native.caller().account_id)
        return _json(200, views.secrets_view(secrets))

    @router.post(
        "/v1/webhooks/secret/rotate",
        summary="Rotate the webhook signing secret",
        description=(
            "Make a new secret; events are signed with the old ones too until "
            "`grace_period_s` has passed, so receivers can switch without dropping any."
        ),
        responses={200: _doc("The secrets after the rotation", SigningSecrets), **_ERRORS},
        tags=["webhooks"],
    )
    def rotate_signing_secret(
        request: Annotated[RotateSecretRequest | None, Body()] = None,
    ) -> Response[str]:
        grace = request.grace_period_s if request else None
        if grace is None:
            grace = svc.settings.webhook_secret_grace_s
        secrets = notify.rotate_secret(
            svc.signing_secrets, native.caller().account_id, timedelta(seconds=grace)
        )
        return _json(200, views.secrets_view(secrets))


def _provider_callback_route(native: _Native, svc: Services) -> None:
    router = native.router

    @router.post(
        PROVIDER_CALLBACK_PATH,
        include_in_schema=False,  # for providers, not clients (docs/ARCHITECTURE.md)
        summary="An external provider's callback",
        description=(
            "Where a provider this deployment routes work to says a task moved on. No API "
            "key: the per-task token of the link the provider was given is the proof. The "
            "body is not read; the task is looked up at the provider."
        ),
        responses={204: {"description": "Taken"}, 404: _doc("No such callback", ErrorBody)},
        tags=["providers"],
    )
    def provider_callback(
        task: Annotated[str, Query(max_length=64)],
        token: Annotated[str, Query(max_length=128)],
    ) -> Response[str]:
        service.provider_callback(svc, task, token)
        return Response(status_code=204, body="")
