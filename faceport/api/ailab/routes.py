"""AILabTools' route: Merge Portraits, answered when the fusion has ended."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from faceport import service
from faceport.api import dialect
from faceport.api.ailab import views
from faceport.api.ailab.errors import NotMultipart, ProcessingFailure
from faceport.api.ailab.schemas import FusionAnswer, read_form
from faceport.api.multipart import body_bytes, parse_form
from faceport.errors import InvalidJson, TaskNotCancelable
from faceport.service import Services

TAG = "AILabTools (Merge Portraits)"
_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image_target", "image_template"],
                    "properties": {
                        "image_target": {"type": "string", "format": "binary"},
                        "image_template": {"type": "string", "format": "binary"},
                        "source_similarity": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                }
            }
        },
    }
}


def router(svc: Services) -> APIGatewayRouter:
    """AILabTools' route, bound to one set of services."""
    router = APIGatewayRouter()

    @router.post(
        "/api/portrait/effects/face-fusion",
        summary="Merge Portraits (AILabTools)",
        description=(
            "multipart/form-data: `image_target` (the donor face), `image_template` (the "
            "photo kept), `source_similarity` 0..1 (default 0.5). Synchronous: the answer "
            "carries the result as base64 in `data.image`."
        ),
        responses={
            200: {"description": "OK", "content": {"application/json": {"model": FusionAnswer}}}
        },
        openapi_extensions=_FORM,
        tags=[TAG],
    )
    def face_fusion() -> Response[str]:
        event = router.current_event
        content_type = event.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise NotMultipart()
        try:
            parts = parse_form(body_bytes(event.body, bool(event.is_base64_encoded)), content_type)
        except InvalidJson as exc:
            raise NotMultipart("The multipart/form-data body could not be parsed.") from exc
        form = read_form(parts)
        task = views.submit_fusion(
            svc, dialect.caller(router), form, dialect.idempotency_key(router)
        )
        ended = svc.tasks.wait_until_done(task.id, svc.settings.max_wait_s)
        if ended is None:
            try:
                service.cancel_task(svc, task.account_id, task.id)
            except TaskNotCancelable:
                ended = svc.tasks.get(task.id)
            if ended is None or not ended.status.is_terminal:
                raise ProcessingFailure()
        status, body = views.task_answer(svc, ended)
        return dialect.answer(status, body)

    return router
