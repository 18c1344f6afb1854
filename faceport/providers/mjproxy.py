"""Midjourney-proxy's InsightFace swap (shared/seeds/mjproxy-insightface-swap.txt): base64
inputs, a `notifyHook` back to faceport's callback route, the task fetched by id (when
called back, and as a fallback on a schedule should the callback be lost)."""

from __future__ import annotations

import base64

from faceport.errors import ProviderFailed, ProviderRefused
from faceport.media import sniff_media_type
from faceport.providers.base import (
    RUNNING,
    Call,
    Outcome,
    ProviderHttp,
    Submitted,
    failure,
    is_plain_png_swap,
    json_of,
)
from faceport.tasks import Task

_ACCEPTED = {1, 22}  # submitted; queued behind others
_REFUSED = {23, 9}  # queue full; system error


def _data_url(data: bytes) -> str:
    media_type = sniff_media_type(data) or "image/png"
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


class MjProxy:
    poll_interval_s = 5.0  # a fallback only: it calls back
    calls_back = True

    def supports(self, task: Task) -> bool:
        return is_plain_png_swap(task)

    def submit(self, http: ProviderHttp, call: Call) -> Submitted:
        body = {
            "sourceBase64": _data_url(call.data("source")),
            "targetBase64": _data_url(call.data("target")),
            "notifyHook": call.callback_url or "",
            "state": call.task.id,
        }
        answer = json_of(
            http.submit("POST", "/mj/insight-face/swap", json=body, accept=frozenset({400}))
        )
        code = answer.get("code")
        if code in _REFUSED:
            raise ProviderRefused(f"mj-proxy answered code {code} at submit.")
        if code not in _ACCEPTED or not isinstance(answer.get("result"), str):
            raise ProviderFailed(f"mj-proxy refused the task: {answer.get('description')}")
        return Submitted(answer["result"])

    def poll(self, http: ProviderHttp, remote_id: str) -> Outcome:
        reply = http.poll("GET", f"/mj/task/{remote_id}/fetch")
        if reply.status_code == 404:
            return failure("the provider lost the task")
        task = json_of(reply)
        if task.get("status") == "SUCCESS":
            return Outcome("succeeded", result_url=task.get("imageUrl"))
        if task.get("status") in ("FAILURE", "CANCEL"):
            return failure(task.get("failReason"))
        return RUNNING

    def cancel(self, http: ProviderHttp, remote_id: str) -> None:
        http.poll("POST", f"/mj/task/{remote_id}/cancel")
