"""The native /v1 API as a Powertools REST resolver.

The same `build_app` runs inside the API Lambda and behind the local HTTP server; the only
difference between the two is the `Services` it is given.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from faceport import service
from faceport.api.errors import error_response, from_validation_error, unexpected_error
from faceport.api.prefer import preferred_wait
from faceport.errors import FaceportError, RouteNotFound, UnsupportedContentType
from faceport.schemas import (
    ErrorBody,
    FaceDetectRequest,
    FaceFusionRequest,
    FaceSwapRequest,
    TaskList,
    TaskView,
    VideoFaceSwapRequest,
)
from faceport.service import Services
from faceport.tasks import Task, TaskStatus

API_TITLE = "faceport"
API_VERSION = "1.0.0"
# Until accounts and keys exist, every request acts for this one local account.
LOCAL_ACCOUNT = "acct_local"


def _doc(description: str, model: type[BaseModel]) -> Any:
    """One OpenAPI response entry with a JSON body."""
    return {"description": description, "content": {"application/json": {"model": model}}}


_ERRORS: dict[int, Any] = {
    code: _doc(text, ErrorBody)
    for code, text in {
        400: "Malformed request",
        404: "No such task",
        413: "Input too large",
        415: "Unsupported media",
        422: "Request does not match the schema",
    }.items()
}

# What a task submission answers: the task, finished (200) or still going (202), or an error.
_SUBMIT_RESPONSES: dict[int, Any] = {
    200: _doc("Finished within the preferred wait", TaskView),
    202: _doc("Accepted; poll the task", TaskView),
    **_ERRORS,
}


def _json(status: int, model: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=model.model_dump_json(),
        headers=headers,
    )


def build_app(svc: Services) -> APIGatewayRestResolver:
    """The resolver with every native route, bound to one set of services."""
    app = APIGatewayRestResolver(enable_validation=True)
    app.enable_swagger(path="/docs", title=API_TITLE, version=API_VERSION)

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
        schema = app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION)
        return Response(200, content_types.APPLICATION_JSON, schema)

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
    def face_swap(request: FaceSwapRequest) -> Response[str]:
        task = service.submit_face_swap(svc, LOCAL_ACCOUNT, request)
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
    def face_fusion(request: FaceFusionRequest) -> Response[str]:
        task = service.submit_face_fusion(svc, LOCAL_ACCOUNT, request)
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
    def video_face_swap(request: VideoFaceSwapRequest) -> Response[str]:
        task = service.submit_video_face_swap(svc, LOCAL_ACCOUNT, request)
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
    def face_detect(request: FaceDetectRequest) -> Response[str]:
        task = service.submit_face_detect(svc, LOCAL_ACCOUNT, request)
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
        task = service.get_task(svc, LOCAL_ACCOUNT, task_id)
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
        page = service.list_tasks(svc, LOCAL_ACCOUNT, status=status, limit=limit, cursor=cursor)
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
        task = service.cancel_task(svc, LOCAL_ACCOUNT, task_id)
        return _json(200, service.render_task(svc, task))

    return app
