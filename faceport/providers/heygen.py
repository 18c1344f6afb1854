"""HeyGen's FaceswapNode workflow (shared/seeds/heygen-faceswap-video.txt): a face image
and a video by URL, then its execution is polled every 10 s, as its page says."""

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

EXECUTIONS = "/v1/workflows/executions"


class HeyGen:
    poll_interval_s = 10.0  # "Poll ... every 10 seconds until status is completed"
    calls_back = False

    def supports(self, task: Task) -> bool:
        return (
            task.operation == "video_face_swap"
            and task.params.target_index in (0, None)
            and "reference_face" not in task.inputs
        )

    def submit(self, http: ProviderHttp, call: Call) -> Submitted:
        body = {
            "workflow_type": "FaceswapNode",
            "input": {
                "source_image_url": call.link("source"),
                "target_video_url": call.link("video"),
            },
        }
        data = json_of(http.submit("POST", EXECUTIONS, json=body)).get("data") or {}
        if not isinstance(data.get("execution_id"), str):
            raise ProviderFailed("HeyGen answered no execution_id.")
        return Submitted(data["execution_id"])

    def poll(self, http: ProviderHttp, remote_id: str) -> Outcome:
        data = json_of(http.poll("GET", f"{EXECUTIONS}/{remote_id}")).get("data") or {}
        status = data.get("status")
        if status == "completed":
            return Outcome("succeeded", result_url=(data.get("output") or {}).get("video_url"))
        if status == "failed":
            error = data.get("error") or {}
            return failure(error.get("message"), error.get("code"))
        if status == "not_found":
            return failure("the provider lost the execution")
        return RUNNING

    def cancel(self, http: ProviderHttp, remote_id: str) -> None:
        return None  # the API documents no cancel
