"""Another faceport deployment as a provider, through its native API: images inline
(base64), a video by an expiring link, `notify_url` back to this deployment's callback
route; its task is read by id when the webhook comes (and on a schedule as a fallback)."""

from __future__ import annotations

import base64
from typing import Any

from faceport.errors import ProviderFailed, ProviderRefused
from faceport.operations import spec_of
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

_PATHS = {
    "face_swap": "/v1/face-swap",
    "face_fusion": "/v1/face-fusion",
    "face_detect": "/v1/face-detect",
    "video_face_swap": "/v1/video-face-swap",
}


def _body(call: Call) -> dict[str, Any]:
    task = call.task
    spec = spec_of(task.operation)
    body: dict[str, Any] = task.params.model_dump(include=set(spec.options), exclude_none=True)
    for given in spec.inputs:
        if given.name not in task.inputs:
            continue
        if given.kind == "video":
            body[given.name] = {"url": call.link(given.name)}
        else:
            body[given.name] = {"base64": base64.b64encode(call.data(given.name)).decode()}
    if call.callback_url:
        body["notify_url"] = call.callback_url
    return body


class FaceportApi:
    poll_interval_s = 5.0  # a fallback only: its webhook calls back
    calls_back = True

    def supports(self, task: Task) -> bool:
        return task.operation in _PATHS

    def submit(self, http: ProviderHttp, call: Call) -> Submitted:
        path = _PATHS[call.task.operation]
        reply = http.submit("POST", path, json=_body(call), accept=frozenset({402}))
        if reply.status_code == 402:  # nothing started there: another backend may
            raise ProviderRefused("The faceport provider's account has too few credits.")
        remote = json_of(reply)
        if not isinstance(remote.get("id"), str):
            raise ProviderFailed("The faceport provider answered no task id.")
        return Submitted(remote["id"], _outcome(remote))

    def poll(self, http: ProviderHttp, remote_id: str) -> Outcome:
        reply = http.poll("GET", f"/v1/tasks/{remote_id}")
        if reply.status_code == 404:
            return failure("the provider lost the task")
        return _outcome(json_of(reply))

    def cancel(self, http: ProviderHttp, remote_id: str) -> None:
        http.poll("POST", f"/v1/tasks/{remote_id}/cancel")


def _outcome(remote: dict[str, Any]) -> Outcome:
    status, result = remote.get("status"), remote.get("result") or {}
    if status == "succeeded":
        if result.get("faces") is not None:
            return Outcome("succeeded", result_data={"faces": result["faces"]})
        return Outcome("succeeded", result_url=result.get("url"))
    if status in ("failed", "canceled"):
        error = remote.get("error") or {}
        return failure(error.get("message") or status, error.get("code"))
    return RUNNING
