"""The native /v1 API as a Powertools REST resolver.

The same `build_app` runs inside the API Lambda and behind the local HTTP server; the only
difference between the two is the `Services` it is given.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Annotated, Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic import BaseModel

from faceport import notify, service
from faceport.accounts import Caller
from faceport.api import reference
from faceport.api.errors import error_response, from_validation_error, unexpected_error
from faceport.api.prefer import preferred_wait
from faceport.auth import caller_from_event
from faceport.errors import FaceportError, RouteNotFound, UnsupportedContentType
from faceport.playground import is_playground_path, playground_router
from faceport.schemas import (
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
from faceport.service import Services
from faceport.tasks import Task, TaskStatus

API_TITLE = "faceport"
API_VERSION = "1.0.0"
# Routes anyone may call; every other path needs an API key (the authorizer runs first).
PUBLIC_PATHS = frozenset({"/docs", "/openapi.json"})


def needs_api_key(path: str) -> bool:
    """Whether the authorizer guards `path`."""
    return path.rstrip("/") not in PUBLIC_PATHS and not is_playground_path(path)


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
# Every header style the seed APIs use works; these two are the ones documented here.
_SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": HTTPBearer(description="`Authorization: Bearer fpk_...`"),
    "apiKey": APIKey.model_validate({"name": "X-Api-Key", "in": APIKeyIn.header}),
}
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]


def _json(status: int, model: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=model.model_dump_json(),
        headers=headers,
    )


class ThreadSafeRestResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, safe to call from several threads at once.

    Powertools keeps the request being resolved in a class attribute
    (`BaseRouter.current_event`, shared by every resolver in the process) and in the
    instance's `context` dict. A Lambda process serves one request at a time, but the local
    server serves many at once, and two requests would read each other's event and caller.
    Here both live in thread-local storage, per resolver.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._per_thread = threading.local()
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEvent:
        event: APIGatewayProxyEvent = self._per_thread.event
        return event

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEvent) -> None:
        self._per_thread.event = value

    @property
    def context(self) -> dict[str, Any]:
        if not hasattr(self._per_thread, "context"):
            self._per_thread.context = {}
        context: dict[str, Any] = self._per_thread.context
        return context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._per_thread.context = value

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        # /openapi.json and /docs both: completed with examples, headers and error codes.
        generated = super().get_openapi_schema(**kwargs)
        return type(generated).model_validate(
            reference.complete(generated.model_dump(by_alias=True, exclude_none=True))
        )

    def _to_proxy_event(self, event: dict[str, Any]) -> BaseProxyEvent:
        # Where `resolve` makes the event it then keeps in `BaseRouter.current_event`.
        proxy = super()._to_proxy_event(event)
        self.current_event = cast(APIGatewayProxyEvent, proxy)
        return proxy


def build_app(svc: Services) -> APIGatewayRestResolver:
    """The resolver with every native route, bound to one set of services."""
    app = ThreadSafeRestResolver(enable_validation=True)
    app.enable_swagger(
        path="/docs",
        title=API_TITLE,
        version=API_VERSION,
        security_schemes=_SECURITY_SCHEMES,
        security=_SECURITY,
    )

    def authenticated(
        app: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        """Who the request acts for (the authorizer's verdict; the key's request rate is
        counted before the resolver, in `api.headers.with_rate_limit`)."""
        if needs_api_key(app.current_event.path):
            caller = caller_from_event(app.current_event.raw_event)
            app.context["caller"] = caller  # cleared after every request
        return next_middleware(app)

    app.use(middlewares=[authenticated])
    app.include_router(playground_router())

    def _caller() -> Caller:
        caller: Caller = app.context["caller"]
        return caller

    @app.exception_handler(FaceportError)
    def _faceport_error(exc: FaceportError) -> Response[str]:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response[str]:
        return error_response(from_validation_error(exc))

    @app.exception_handler(RequestUnsupportedContentType)
    def _content_type(_exc: RequestUnsupportedContentType) -> Response[str]:
        return error_response(UnsupportedContentType())

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        return unexpected_error(exc)

    @app.not_found
    def _not_found(_exc: Exception) -> Response[str]:
        return error_response(RouteNotFound())

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        schema = app.get_openapi_json_schema(
            title=API_TITLE,
            version=API_VERSION,
            security_schemes=_SECURITY_SCHEMES,
            security=_SECURITY,
        )
        return Response(200, content_types.APPLICATION_JSON, schema)

    @app.get(
        "/v1/account",
        summary="Your account",
        description="Credits (balance, reserved for unfinished tasks, available) and usage.",
        responses={200: _doc("The account", AccountView), **_ERRORS},
        tags=["account"],
    )
    def account() -> Response[str]:
        return _json(200, service.get_account(svc, _caller()))

    @app.post(
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
        task = service.submit_face_swap(svc, _caller(), request, idempotency_key=idempotency_key)
        return _accepted(task)

    @app.post(
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
        task = service.submit_face_fusion(svc, _caller(), request, idempotency_key=idempotency_key)
        return _accepted(task)

    @app.post(
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
        task = service.submit_video_face_swap(
            svc, _caller(), request, idempotency_key=idempotency_key
        )
        return _accepted(task)

    @app.post(
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
        task = service.submit_face_detect(svc, _caller(), request, idempotency_key=idempotency_key)
        return _accepted(task, always_wait=True)

    def _accepted(task: Task, *, always_wait: bool = False) -> Response[str]:
        headers = {"Location": f"/v1/tasks/{task.id}"}
        prefer = app.current_event.headers.get("prefer")  # case-insensitive in Powertools v3
        wait = preferred_wait(prefer, svc.settings.max_wait_s)
        if always_wait:
            task = service.wait_for_task(svc, task, wait or svc.settings.max_wait_s)
        elif wait is not None:
            task = service.wait_for_task(svc, task, wait)
            headers["Preference-Applied"] = f"wait={wait}"
        status = 200 if task.status.is_terminal else 202
        return _json(status, service.render_task(svc, task), headers)

    @app.get(
        "/v1/tasks/<task_id>",
        summary="Get a task",
        responses={
            200: _doc("The task", TaskView),
            **_ERRORS,
        },
        tags=["tasks"],
    )
    def get_task(task_id: str) -> Response[str]:
        task = service.get_task(svc, _caller().account_id, task_id)
        return _json(200, service.render_task(svc, task))

    @app.get(
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
            svc, _caller().account_id, status=status, limit=limit, cursor=cursor
        )
        return _json(200, page)

    @app.post(
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
        task = service.cancel_task(svc, _caller().account_id, task_id)
        return _json(200, service.render_task(svc, task))

    # -- webhooks ------------------------------------------------------------------------

    @app.get(
        "/v1/tasks/<task_id>/deliveries",
        summary="List a task's webhook deliveries",
        description="Every event sent for the task, with every try: time, status, latency.",
        responses={200: _doc("The task's events and tries", DeliveryList), **_ERRORS},
        tags=["webhooks"],
    )
    def list_deliveries(task_id: str) -> Response[str]:
        return _json(200, notify.list_deliveries(svc, _caller().account_id, task_id))

    @app.post(
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
        return _json(202, notify.redeliver(svc, _caller().account_id, task_id))

    @app.get(
        "/v1/webhooks/secret",
        summary="Get the webhook signing secrets",
        description="Verify events with any secret listed (newest first).",
        responses={200: _doc("The secrets", SigningSecrets)},
        tags=["webhooks"],
    )
    def get_signing_secrets() -> Response[str]:
        secrets = notify.signing_secrets(svc.signing_secrets, _caller().account_id)
        return _json(200, notify.secrets_view(secrets))

    @app.post(
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
            svc.signing_secrets, _caller().account_id, timedelta(seconds=grace)
        )
        return _json(200, notify.secrets_view(secrets))

    return app
