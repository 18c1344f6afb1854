"""API in One's face swap (shared/seeds/apiinone-face-swap.txt): URL inputs, submit, then
poll its task until `completed` or `failed`. It has no webhook, so it is polled."""

from __future__ import annotations

from faceport.errors import ProviderFailed
from faceport.providers.base import (
    RUNNING,
    Call,
    Outcome,
    ProviderHttp,
    Submitted,
    failure,
    json_of,
)
from faceport.tasks import Task


class ApiInOne:
    poll_interval_s = 2.0  # the page gives none; an image swap takes seconds
    calls_back = False

    def supports(self, task: Task) -> bool:
        target = task.params.target_index
        return (
            task.operation == "face_swap"
            and task.params.face_map is None
            and isinstance(target, int)
            and 0 <= target <= 10
        )

    def submit(self, http: ProviderHttp, call: Call) -> Submitted:
        body = {
            "model": "face-swap",
            "image": call.link("target"),
            "face_image": call.link("source"),
            "target_index": call.task.params.target_index,
            "output_format": call.task.params.output_format,
        }
        data = json_of(http.submit("POST", "/api/v1/images/tools/face-swap", json=body))
        task_id = (data.get("data") or {}).get("task_id")
        if not isinstance(task_id, str):
            raise ProviderFailed("API in One answered no task_id.")
        return Submitted(task_id)

    def poll(self, http: ProviderHttp, remote_id: str) -> Outcome:
        reply = http.poll("GET", f"/api/v1/tasks/{remote_id}")
        if reply.status_code == 404:
            return failure("the provider lost the task")
        data = json_of(reply).get("data") or {}
        status = data.get("status")
        if status == "completed":
            outputs = data.get("outputs") or []
            return Outcome("succeeded", result_url=outputs[0] if outputs else None)
        if status == "failed":
            return failure(data.get("error"))
        return RUNNING

    def cancel(self, http: ProviderHttp, remote_id: str) -> None:
        return None  # the API has no cancel
