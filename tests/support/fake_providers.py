"""Fake external providers on loopback, one per kind, written from the seed pages in
shared/seeds/ (their paths, auth headers, bodies and statuses), not from faceport's code.

A fake downloads the inputs it is given (by URL like the real API, or base64), "works" for
`work_s` and then makes its result: the target image (or video) it was given, served from
its own `/results/` path, without any synthetic-media label. A `Behaviour` makes it fail,
answer slowly, refuse at submit (5xx/429), or drop its callback.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

API_KEY = "provider-secret-key"
ZHIQITE_KEY = ("AK123", "SK456")


@dataclass
class Behaviour:
    fail: bool = False  # the work ends failed
    fail_message: str = "internal model error"
    work_s: float = 0.2  # how long the work takes
    submit_status: int | None = None  # answer the submit with this (500, 429)
    submit_delay_s: float = 0.0  # answer the submit slowly
    drop_callback: bool = False  # never call back


@dataclass
class FakeJob:
    id: str
    result: bytes | None
    ends_at: float
    callback: str | None = None
    state: str = ""
    business_id: str = ""
    canceled: bool = False
    callbacks_sent: int = 0


@dataclass
class FakeProvider:
    kind: str
    url: str = ""
    behaviour: Behaviour = field(default_factory=Behaviour)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def config(self, **extra: Any) -> dict[str, Any]:
        """Its FACEPORT_PROVIDERS entry."""
        key = ":".join(ZHIQITE_KEY) if self.kind == "zhiqite" else API_KEY
        return {"kind": self.kind, "base_url": self.url, "api_key": key, **extra}

    def submits(self) -> int:
        return sum(1 for method, path in self.calls if method == "POST" and _is_submit(path))

    def polls(self) -> int:
        return sum(1 for _method, path in self.calls if not _is_submit(path))

    # -- the work -------------------------------------------------------------------------

    def new_job(self, target: bytes, callback: str | None = None, **extra: Any) -> FakeJob:
        behaviour = self.behaviour
        job = FakeJob(
            id=f"{self.kind}-{uuid.uuid4().hex[:12]}",
            result=None if behaviour.fail else target,
            ends_at=time.monotonic() + behaviour.work_s,
            callback=callback,
            **extra,
        )
        with self.lock:
            self.jobs[job.id] = job
        if callback:
            threading.Timer(behaviour.work_s, self._call_back, args=(job,)).start()
        return job

    def done(self, job: FakeJob) -> bool:
        return time.monotonic() >= job.ends_at

    def result_url(self, job: FakeJob) -> str:
        return f"{self.url}/results/{job.id}"

    def _call_back(self, job: FakeJob) -> None:
        if self.behaviour.drop_callback or job.canceled or job.callback is None:
            return
        body = json.dumps(mj_task(self, job)).encode()
        try:
            requests.post(job.callback, data=body, timeout=10)
            job.callbacks_sent += 1
        except requests.RequestException:
            pass


def _is_submit(path: str) -> bool:
    return path.rstrip("/") in SUBMIT_PATHS


SUBMIT_PATHS = {
    "/api/v1/images/tools/face-swap",
    "/AIGCImgOpenServ/saas/tool/roop",
    "/mj/insight-face/swap",
    "/v1/workflows/executions",
    "/api/portrait/effects/face-fusion",
}


def download(url: str) -> bytes:
    """What the real API does with an input URL (requests: under moto, S3 links work)."""
    reply = requests.get(url, timeout=10)
    reply.raise_for_status()
    return reply.content


def mj_task(fake: FakeProvider, job: FakeJob) -> dict[str, Any]:
    """mj-proxy's Task object (fetch answer and notifyHook body)."""
    done = fake.done(job)
    status = "IN_PROGRESS" if not done else "FAILURE" if job.result is None else "SUCCESS"
    return {
        "id": job.id,
        "action": "SWAP_FACE",
        "status": status,
        "state": job.state,
        "progress": "100%" if done else "50%",
        "imageUrl": fake.result_url(job) if status == "SUCCESS" else None,
        "failReason": fake.behaviour.fail_message if status == "FAILURE" else None,
    }


# -- each kind's routes ------------------------------------------------------------------


def _apiinone(fake: FakeProvider, h: _Handler) -> None:
    if h.headers.get("Authorization") != f"Bearer {API_KEY}":
        return h.reply(401, {"error": {"code": 401, "message": "Invalid API key"}})
    if h.command == "POST":
        body = h.json()
        job = fake.new_job(download(body["image"]))
        download(body["face_image"])
        return h.reply(
            200,
            {
                "code": 200,
                "message": "success",
                "data": {"task_id": job.id, "status": "IN_PROGRESS"},
            },
        )
    job = fake.jobs.get(h.path.rsplit("/", 1)[-1])
    if job is None:
        return h.reply(404, {"error": {"code": 404, "message": "Task not found"}})
    done = fake.done(job)
    status = "processing" if not done else "failed" if job.result is None else "completed"
    data = {
        "task_id": job.id,
        "status": status,
        "outputs": [fake.result_url(job)] if status == "completed" else [],
        "error": fake.behaviour.fail_message if status == "failed" else "",
    }
    return h.reply(200, {"code": 200, "message": "success", "data": data})


def _zhiqite(fake: FakeProvider, h: _Handler) -> None:
    if (
        h.headers.get("X-Request-req-accessKeyId"),
        h.headers.get("X-Request-req-accessKeySecret"),
    ) != ZHIQITE_KEY:
        return h.reply(401, {"code": "401", "msg": "invalid key", "data": None})
    body = h.json()
    if h.path.endswith("/queryTask"):
        found = [j for j in fake.jobs.values() if j.business_id == body.get("businessTaskId")]
        if not found:
            return h.reply(404, {"code": "404", "msg": "task not found", "data": None})
        job = found[0]
    else:
        job = fake.new_job(download(body["targetUrl"]), business_id=body["businessTaskId"])
        download(body["sourceUrl"])
    done = fake.done(job)
    status = 0 if not done else 2 if job.result is None else 1
    data = {
        "taskId": job.id,
        "toolTask": "roop",
        "status": status,
        "outputImageUrl": fake.result_url(job) if status == 1 else "",
    }
    if status == 2:
        data["desc"] = fake.behaviour.fail_message
    return h.reply(200, {"code": "200", "msg": "success", "data": data})


def _mjproxy(fake: FakeProvider, h: _Handler) -> None:
    if h.path == "/mj/insight-face/swap":
        body = h.json()
        target = base64.b64decode(body["targetBase64"].split(",", 1)[-1])
        job = fake.new_job(target, callback=body.get("notifyHook") or None, state=body["state"])
        return h.reply(200, {"code": 1, "description": "提交成功", "result": job.id})
    job_id = h.path.split("/")[3]
    job = fake.jobs.get(job_id)
    if job is None:
        return h.reply(404, {"code": 3, "description": "task not found", "result": None})
    if h.path.endswith("/cancel"):
        job.canceled = True
        return h.reply(200, {"code": 1, "description": "成功"})
    return h.reply(200, mj_task(fake, job))


def _heygen(fake: FakeProvider, h: _Handler) -> None:
    if h.headers.get("X-Api-Key") != API_KEY:
        return h.reply(401, {"error": {"code": "unauthorized", "message": "bad key"}})
    if h.command == "POST":
        body = h.json()
        assert body["workflow_type"] == "FaceswapNode"
        download(body["input"]["source_image_url"])
        job = fake.new_job(download(body["input"]["target_video_url"]))
        return h.reply(200, {"data": {"execution_id": job.id, "status": "submitted"}})
    job_id = h.path.rsplit("/", 1)[-1]
    job = fake.jobs.get(job_id)
    if job is None:
        return h.reply(200, {"data": {"execution_id": job_id, "status": "not_found"}})
    data: dict[str, Any] = {"execution_id": job.id, "status": "processing"}
    if fake.done(job) and job.result is None:
        data.update(status="failed", error={"message": fake.behaviour.fail_message})
    elif fake.done(job):
        data.update(status="completed", output={"video_url": fake.result_url(job)})
    return h.reply(200, {"data": data})


def _ailabtools(fake: FakeProvider, h: _Handler) -> None:
    if h.headers.get("ailabapi-api-key") != API_KEY:
        return h.reply(401, {"error_code": 401, "error_msg": "bad key"})
    form = h.multipart()
    time.sleep(fake.behaviour.work_s)  # synchronous: the answer waits for the work
    if fake.behaviour.fail:
        detail = {"status_code": 422, "code": "ERROR_NO_FACE_IN_FILE", "message": ""}
        return h.reply(
            422,
            {
                "request_id": "r1",
                "error_code": 422,
                "error_msg": "No face detected in the file.",
                "error_detail": detail,
            },
        )
    job = fake.new_job(form["image_template"])
    job.ends_at = 0
    image = base64.b64encode(form["image_template"]).decode()
    return h.reply(
        200,
        {
            "request_id": job.id,
            "log_id": job.id,
            "error_code": 0,
            "error_msg": "",
            "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
            "data": {"image": image},
        },
    )


_KINDS = {
    "apiinone": _apiinone,
    "zhiqite": _zhiqite,
    "mjproxy": _mjproxy,
    "heygen": _heygen,
    "ailabtools": _ailabtools,
}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeProvider

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self._body() or b"{}")
        return body

    def multipart(self) -> dict[str, bytes]:
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser().parsebytes(head + self._body())
        return {
            part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.get_payload()
        }

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status: int, body: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if raw is None else "image/png")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self) -> None:
        fake = self.fake
        with fake.lock:
            fake.calls.append((self.command, self.path))
        if self.path.startswith("/results/"):
            job = fake.jobs.get(self.path.removeprefix("/results/"))
            if job is None or job.result is None:
                return self.reply(404, {})
            return self.reply(200, None, raw=job.result)
        if self.command == "POST" and _is_submit(self.path):
            time.sleep(fake.behaviour.submit_delay_s)
            if fake.behaviour.submit_status is not None:
                self._body()
                return self.reply(fake.behaviour.submit_status, {"error": "refused"})
        return _KINDS[fake.kind](fake, self)

    do_GET = do_POST = _serve

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def fake_provider(kind: str, behaviour: Behaviour | None = None) -> Iterator[FakeProvider]:
    """A fake of `kind` on 127.0.0.1 (its `url` is the base_url to configure)."""
    fake = FakeProvider(kind, behaviour=behaviour or Behaviour())
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
