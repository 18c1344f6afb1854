"""AILabTools' Merge Portraits (shared/seeds/ailabtools-face-fusion.txt): synchronous, a
multipart upload answered with the result in base64, inside the step that submits it.
Mind the inversion: its `image_target` is the donor (faceport's `source`)."""

from __future__ import annotations

import base64
import binascii

from faceport.errors import ProviderFailed
from faceport.providers.base import Call, Outcome, ProviderHttp, Submitted, failure, json_of
from faceport.tasks import Task


class AiLabTools:
    poll_interval_s = 1.0  # never polled: the answer is the result
    calls_back = False

    def supports(self, task: Task) -> bool:
        return task.operation == "face_fusion" and task.params.output_format == "png"

    def submit(self, http: ProviderHttp, call: Call) -> Submitted:
        files = {
            "image_target": ("source", call.data("source")),
            "image_template": ("target", call.data("target")),
        }
        similarity = call.task.params.similarity
        form = {} if similarity is None else {"source_similarity": str(similarity)}
        reply = http.submit(
            "POST",
            "/api/portrait/effects/face-fusion",
            files=files,
            data=form,
            accept=frozenset({400, 422}),
        )
        answer = json_of(reply)
        request_id = str(answer.get("request_id") or answer.get("log_id") or "")
        if answer.get("error_code") != 0:
            detail = answer.get("error_detail") or {}
            return Submitted(request_id, failure(answer.get("error_msg"), detail.get("code")))
        try:
            image = base64.b64decode((answer.get("data") or {}).get("image") or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProviderFailed("AILabTools answered an image that is not base64.") from exc
        return Submitted(request_id, Outcome("succeeded", result_bytes=image))

    def poll(self, http: ProviderHttp, remote_id: str) -> Outcome:
        raise ProviderFailed("AILabTools answers at once; there is nothing to poll.")

    def cancel(self, http: ProviderHttp, remote_id: str) -> None:
        return None
