"""Dialect tasks are ordinary tasks: idempotency, visibility, cancel, rate limits, through
the in-process resolver behind the local authorizer (the same events the server makes)."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.settings import Settings
from tests.support import images
from tests.support.api_client import Api, call, new_account
from tests.support.fakes import FakeEngine
from tests.support.webhook_receiver import wait_until

FACE = "data:image/jpeg;base64," + base64.b64encode(images.astronaut_jpeg()).decode()
OTHER = "data:image/jpeg;base64," + base64.b64encode(images.grace_hopper_jpeg()).decode()
SWAP = {"model": "face-swap", "image": OTHER, "face_image": FACE}
PATH = "/api/v1/images/tools/face-swap"


def test_idempotency_key_and_visibility(runtime: LocalRuntime, app: Api) -> None:
    headers = {"Idempotency-Key": "order-1"}
    first = call(app, "POST", PATH, SWAP, headers).json()["data"]["task_id"]
    assert call(app, "POST", PATH, SWAP, headers).json()["data"]["task_id"] == first
    reused = call(app, "POST", PATH, {**SWAP, "target_index": 1}, headers)
    assert reused.status == 422 and reused.json()["error"]["type"] == "invalid_request_error"
    # another account's task, or a task of another dialect, is "not found"
    stranger = app.as_key(new_account(runtime.accounts, runtime.accounts, credits=0))
    assert call(stranger, "GET", f"/api/v1/tasks/{first}").status == 404
    assert call(app, "GET", f"/mj/task/{first}/fetch").status == 404
    heygen = call(app, "GET", f"/v1/workflows/executions/{first}").json()
    assert heygen["data"]["status"] == "not_found"
    assert call(app, "GET", f"/v1/tasks/{first}").json()["id"] == first  # native sees all


def test_a_canceled_task_reads_as_failed_canceled_in_each_dialect(
    runtime: LocalRuntime, app: Api, fake_engine: FakeEngine
) -> None:
    fake_engine.gate = threading.Event()  # the first task holds the worker
    mj = {"sourceBase64": FACE, "targetBase64": OTHER}
    running = call(app, "POST", "/mj/insight-face/swap", mj).json()["result"]
    assert fake_engine.entered.wait(10)
    # every worker busy, then one queued task ahead of the last one
    answers = [
        call(app, "POST", "/mj/insight-face/swap", mj).json()
        for _ in range(runtime.services.settings.workers + 1)
    ]
    queued = answers[-1]
    assert queued["code"] == 22 and queued["properties"]["numberOfQueues"] >= 1
    assert queued["description"].startswith("排队中")
    fetched = call(app, "GET", f"/mj/task/{running}/fetch").json()
    assert fetched["status"] == "IN_PROGRESS" and fetched["progress"].endswith("%")
    canceled = call(app, "POST", f"/mj/task/{running}/cancel").json()
    assert canceled == {"code": 1, "description": "成功"}
    fetched = call(app, "GET", f"/mj/task/{running}/fetch").json()
    assert (fetched["status"], fetched["failReason"]) == ("FAILURE", "canceled")
    in_one = call(app, "POST", PATH, SWAP).json()["data"]["task_id"]
    call(app, "POST", f"/v1/tasks/{in_one}/cancel")
    task = call(app, "GET", f"/api/v1/tasks/{in_one}").json()["data"]
    assert (task["status"], task["error"]) == ("failed", "canceled")
    fake_engine.gate.set()
    for answer in answers:
        wait_until(lambda a=answer: _ended(runtime, a["result"]))
    account = call(app, "GET", "/v1/account").json()
    assert account["reserved"] == 0  # nothing held by the canceled tasks


def test_a_dialect_over_its_rate_answers_429_in_its_envelope(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, rate_limit_per_s=0.01, rate_limit_burst=1)
    runtime = build_local_runtime(settings, engine=FakeEngine())
    app = Api(runtime.services, new_account(runtime.accounts, runtime.accounts, credits=100))
    assert call(app, "GET", "/api/v1/tasks/task_x").status == 404
    limited = call(app, "GET", "/api/v1/tasks/task_x")
    assert limited.status == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["type"] == "rate_limit_error"
    roop = call(app, "POST", "/AIGCImgOpenServ/saas/tool/roop/queryTask", {"businessTaskId": "1"})
    assert (roop.status, roop.json()["code"]) == (429, "429")


def _ended(runtime: LocalRuntime, task_id: str) -> bool:
    task = runtime.services.tasks.get(task_id)
    return task is not None and task.status.is_terminal


def test_heygen_node_routes_are_the_same_executions(app: Api) -> None:
    body = {
        "node_type": "FaceswapNode",
        "input": {"source_image_url": FACE, "target_video_url": "http://127.0.0.1:9/v.mp4"},
    }
    started = call(app, "POST", "/v1/nodes/executions", body, {"X-Api-Key": str(app.api_key)})
    assert started.status == 200, started.body
    execution_id = started.json()["data"]["execution_id"]
    node = call(app, "GET", f"/v1/nodes/executions/{execution_id}").json()["data"]
    workflow = call(app, "GET", f"/v1/workflows/executions/{execution_id}").json()["data"]
    assert node["execution_id"] == workflow["execution_id"] == execution_id
    assert node["status"] in ("submitted", "processing", "failed")
