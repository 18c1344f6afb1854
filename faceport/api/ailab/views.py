"""AILabTools' form -> a Submission (a native face fusion), the ended task -> its answer."""

from __future__ import annotations

import base64
from typing import Any

from faceport.accounts import Caller
from faceport.api.ailab import DIALECT
from faceport.api.ailab.errors import ProcessingFailure, envelope, error_body
from faceport.api.ailab.schemas import FusionForm
from faceport.errors import error_for_code
from faceport.inputs import GivenInput
from faceport.service import Queries, Services, Submission, submit
from faceport.tasks import OutputFormat, Task, TaskParams, TaskStatus


def submit_fusion(
    svc: Services, caller: Caller, form: FusionForm, idempotency_key: str | None
) -> Task:
    """Queue the fusion: AILab's "target" is faceport's source (the donor), its
    "template" faceport's target (the photo kept)."""
    donor = base64.b64encode(form.image_target).decode()
    template = base64.b64encode(form.image_template).decode()
    output_format: OutputFormat = "jpg" if form.template_type == "image/jpeg" else "png"
    submission = Submission(
        operation="face_fusion",
        params=TaskParams(similarity=form.source_similarity, output_format=output_format),
        inputs={"source": GivenInput(base64=donor), "target": GivenInput(base64=template)},
        asked={"source": donor, "target": template, "similarity": form.source_similarity},
        dialect=DIALECT,
    )
    return submit(svc, caller, submission, idempotency_key=idempotency_key)


def task_answer(svc: Queries, task: Task) -> tuple[int, dict[str, Any]]:
    """The HTTP status and answer for an ended fusion: the image as base64 (no data:
    prefix), or the task's failure in the envelope."""
    if task.status is TaskStatus.SUCCEEDED and task.result_key:
        image = base64.b64encode(svc.blobs.get(task.result_key)).decode()
        return 200, {**envelope(200, "", "", ""), "data": {"image": image}}
    if task.error is None:  # canceled while the request waited
        return error_body(ProcessingFailure("The fusion was canceled."))
    return error_body(error_for_code(task.error.code, task.error.message))


def task_body(svc: Services, task: Task) -> dict[str, Any]:
    """The answer body for an ended fusion (the group's view of its tasks)."""
    return task_answer(svc, task)[1]
