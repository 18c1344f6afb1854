"""Zhiqite's single face swap V1.0, roop (shared/seeds/zhiqite-roop-face-swap.txt): URL
inputs and a `businessTaskId` of ours, the key pair in two headers; its answer may already
be final (`status` 1 or 2), else its query is polled by the business id."""

from __future__ import annotations

from typing import Any

from faceport.errors import ProviderFailed, ProviderRefused
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

ROOP = "/AIGCImgOpenServ/saas/tool/roop"


def key_headers(api_key: str) -> dict[str, str]:
    """`"<accessKeyId>:<accessKeySecret>"` as the API's two headers."""
    key_id, _, secret = api_key.partition(":")
    return {"X-Request-req-accessKeyId": key_id, "X-Request-req-accessKeySecret": secret}


def _outcome(record: dict[str, Any]) -> Outcome:
    data = record.get("data") or {}
    if data.get("status") == 1:
        return Outcome("succeeded", result_url=data.get("outputImageUrl") or None)
    if data.get("status") == 2:
        return failure(data.get("desc") or record.get("msg"))
    return RUNNING


class Zhiqite:
    poll_interval_s = 3.0  # the page gives none
    calls_back = False

    def supports(self, task: Task) -> bool:
        return is_plain_png_swap(task)

    def submit(self, http: ProviderHttp, call: Call) -> Submitted:
        body = {
            "sourceUrl": call.link("source"),
            "targetUrl": call.link("target"),
            "businessTaskId": call.task.id,
        }
        record = json_of(http.submit("POST", ROOP, json=body))
        code = str(record.get("code"))
        if code == "429" or code.startswith("5"):
            raise ProviderRefused(f"Zhiqite answered code {code} at submit.")
        if code != "200":
            raise ProviderFailed(f"Zhiqite refused the task: {record.get('msg')}")
        # Its query takes our business id, so that is the id we keep.
        return Submitted(call.task.id, _outcome(record))

    def poll(self, http: ProviderHttp, remote_id: str) -> Outcome:
        reply = http.poll("POST", f"{ROOP}/queryTask", json={"businessTaskId": remote_id})
        if reply.status_code == 404:
            return failure("the provider lost the task")
        return _outcome(json_of(reply))

    def cancel(self, http: ProviderHttp, remote_id: str) -> None:
        return None  # the API has no cancel
