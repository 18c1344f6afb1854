"""The five seed dialects through the real local HTTP server: each seed page's own example
requests replayed verbatim (only the example hosts pointed at a loopback file server),
answers checked field by field against ../shared/DIALECTS.md, errors included. The engine
is the fake one (the target comes back unchanged); the real engine runs in
tests/e2e/test_seed_clients.py."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from faceport.api.groups import ROUTE_GROUPS
from faceport.settings import Settings
from tests.support import images, seeds
from tests.support.fakes import NO_FACE_MARKER, FakeEngine
from tests.support.live_server import Live, free_port, live_server
from tests.support.webhook_receiver import wait_until, webhook_receiver

MAX_BODY = 1 << 20


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("dialects") / "data",
        host="127.0.0.1",
        port=free_port(),
        allow_private_urls=True,
        rate_limit_per_s=1000,
        rate_limit_burst=1000,
        webhook_retry_base_s=0.2,
        webhook_retry_max_delay_s=0.5,
    )
    with live_server(settings, FakeEngine(), max_body_bytes=MAX_BODY, port=settings.port) as server:
        yield server


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    with seeds.seed_files(clip=b"not a video") as base:
        yield base


def post(live: Live, path: str, body: str | bytes, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        return client.post(path, content=body, headers=headers)


def get(live: Live, path: str, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        return client.get(path, headers=headers)


def poll(live: Live, path: str, headers: dict[str, str], done: Any) -> dict[str, Any]:
    def check() -> Any:
        body = get(live, path, headers).json()
        return body if done(body) else None

    result: dict[str, Any] = wait_until(check, what=path)
    return result


def download(url: str) -> bytes:
    """A result link works without any key."""
    assert url.startswith("http://127.0.0.1:") and "expires=" in url and "sig=" in url
    reply = httpx.get(url, timeout=10)
    assert reply.status_code == 200
    return reply.content


# --- API in One ---------------------------------------------------------------------------


def test_apiinone_seed_example_swaps_and_polls(live: Live, files: str) -> None:
    headers = {**seeds.APIINONE_HEADERS, "Authorization": f"Bearer {live.api_key}"}
    reply = post(live, seeds.APIINONE_PATH, seeds.aimed(seeds.APIINONE_BODY, files), headers)
    assert reply.status_code == 200, reply.text
    created = reply.json()
    assert (created["code"], created["message"]) == (200, "success")
    data = created["data"]
    assert data["task_id"].startswith("task_") and data["status"] == "IN_PROGRESS"
    assert data["model"] == "face-swap" and data["created_at"].endswith("Z")
    path = f"/api/v1/tasks/{data['task_id']}"
    done = poll(live, path, headers, lambda b: b["data"]["status"] in ("completed", "failed"))
    assert set(done) == {"code", "message", "data"}
    task = done["data"]
    assert task["status"] == "completed" and task["error"] == ""
    assert set(task) == {"task_id", "model", "status", "outputs", "error", "created_at"}
    assert download(task["outputs"][0]) == images.grace_hopper_jpeg()  # the fake's target
    assert task["outputs"][0].split("?")[0].endswith(".png")
    # One core: the native API shows the same task, charged the swap price.
    native = get(live, f"/v1/tasks/{data['task_id']}", headers).json()
    assert (native["status"], native["price"], native["operation"]) == (
        "succeeded",
        4,
        "face_swap",
    )


def test_apiinone_errors_in_its_envelope(live: Live, files: str) -> None:
    seed = seeds.aimed(seeds.APIINONE_BODY, files)
    reply = post(live, seeds.APIINONE_PATH, seed, seeds.APIINONE_HEADERS)  # the seed's aio_ key
    assert reply.status_code == 401
    assert reply.json() == {
        "error": {"code": 401, "message": "Invalid API key", "type": "authentication_error"}
    }
    headers = {**seeds.APIINONE_HEADERS, "Authorization": f"Bearer {live.api_key}"}
    for change in ({"target_index": 11}, {"target_index": 0.5}, {"output_format": "gif"}):
        bad = post(live, seeds.APIINONE_PATH, json.dumps({**json.loads(seed), **change}), headers)
        assert bad.status_code == 400, change
        assert bad.json()["error"]["code"] == 400
        assert bad.json()["error"]["type"] == "invalid_request_error"
    missing = get(live, "/api/v1/tasks/task_nothing", headers)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": 404, "message": "Task not found", "type": "not_found_error"}
    }
    huge = post(live, seeds.APIINONE_PATH, "x" * (MAX_BODY + 10), headers)
    assert huge.status_code == 413 and huge.json()["error"]["code"] == 413
    poor = live.new_key(credits=1)
    short = post(live, seeds.APIINONE_PATH, seed, {**headers, "Authorization": f"Bearer {poor}"})
    assert short.status_code == 402
    assert short.json()["error"]["type"] == "insufficient_credits_error"


def test_apiinone_failed_task_and_callback(live: Live, files: str) -> None:
    headers = {"Authorization": f"Bearer {live.api_key}", "Content-Type": "application/json"}
    no_face = base64.b64encode(images.astronaut_jpeg() + NO_FACE_MARKER).decode()
    with webhook_receiver() as hook:
        body = {
            "model": "face-swap",
            "image": f"{files}/target-photo.jpg",
            "face_image": f"data:image/jpeg;base64,{no_face}",
            "callback_url": hook.url,
        }
        reply = post(live, seeds.APIINONE_PATH, json.dumps(body), headers)
        assert reply.status_code == 200, reply.text
        created = reply.json()["data"]
        event = json.loads(hook.wait_for(1)[0].body)
    path = f"/api/v1/tasks/{created['task_id']}"
    task = poll(live, path, headers, lambda b: b["data"]["status"] == "failed")["data"]
    assert task["outputs"] == [] and "face" in task["error"]
    assert event["type"] == "task.failed"
    assert event["data"]["data"]["status"] == "failed"  # the task as this dialect shows it


# --- Zhiqite --------------------------------------------------------------------------------


def zhiqite_headers(live: Live, key: str | None = None) -> dict[str, str]:
    key = key or live.api_key
    key_id, _, secret = key.rpartition("_")
    return {
        "X-Request-req-accessKeyId": key_id,
        "X-Request-req-accessKeySecret": secret,
        "Content-Type": "application/json",
    }


def test_zhiqite_seed_example_answers_the_final_record(live: Live, files: str) -> None:
    seed = seeds.aimed(seeds.ZHIQITE_BODY, files)
    refused = post(live, seeds.ZHIQITE_PATH, seed, seeds.ZHIQITE_HEADERS)  # empty pair
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "401",
        "msg": "invalid accessKeyId/accessKeySecret",
        "data": None,
    }
    key = live.new_key(credits=100)
    headers = zhiqite_headers(live, key)
    reply = post(live, seeds.ZHIQITE_PATH, seed, headers)
    assert reply.status_code == 200, reply.text
    record = reply.json()
    assert (record["code"], record["msg"]) == ("200", "success")
    data = record["data"]
    assert set(data) == {"taskId", "toolTask", "status", "outputImageUrl"}
    assert data["toolTask"] == "roop" and data["status"] == 1
    assert data["taskId"] != "111612" and data["taskId"].startswith("task_")
    # the percent-encoded target went on the wire unchanged (the file server matched it)
    assert download(data["outputImageUrl"]) == images.grace_hopper_jpeg()
    # businessTaskId: the same body again is the same task, charged once
    again = post(live, seeds.ZHIQITE_PATH, seed, headers).json()
    assert again["data"]["taskId"] == data["taskId"]
    account = get(live, "/v1/account", {"Authorization": f"Bearer {key}"}).json()
    assert account["balance"] == 96
    other = json.dumps({**json.loads(seed), "sourceUrl": f"{files}/face.jpg"})
    clash = post(live, seeds.ZHIQITE_PATH, other, headers)
    assert clash.status_code == 409 and clash.json()["code"] == "409"
    query = post(live, f"{seeds.ZHIQITE_PATH}/queryTask", '{"businessTaskId": "111612"}', headers)
    assert query.status_code == 200 and query.json()["data"]["taskId"] == data["taskId"]


def test_zhiqite_callback_gets_the_query_record(live: Live, files: str) -> None:
    headers = zhiqite_headers(live)
    with webhook_receiver() as hook:
        body = {
            "sourceUrl": f"{files}/face.jpg",
            "targetUrl": f"{files}/target-photo.jpg",
            "businessTaskId": "cb-1",
            "callbackUrl": hook.url,
        }
        record = post(live, seeds.ZHIQITE_PATH, json.dumps(body), headers).json()
        event = json.loads(hook.wait_for(1)[0].body)
    assert event["type"] == "task.succeeded"
    assert event["data"]["data"]["taskId"] == record["data"]["taskId"]
    assert event["data"]["data"]["status"] == 1


def test_zhiqite_errors_and_failures(live: Live, files: str) -> None:
    headers = zhiqite_headers(live)
    unknown = post(live, f"{seeds.ZHIQITE_PATH}/queryTask", '{"businessTaskId": "nope"}', headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"code": "404", "msg": "task not found", "data": None}
    bad = post(live, seeds.ZHIQITE_PATH, '{"sourceUrl": "x", "businessTaskId": "1"}', headers)
    assert bad.status_code == 400 and bad.json()["code"] == "400" and bad.json()["data"] is None
    broken = post(live, seeds.ZHIQITE_PATH, "{not json", headers)
    assert broken.status_code == 400 and broken.json()["code"] == "400"
    huge = post(live, seeds.ZHIQITE_PATH, "x" * (MAX_BODY + 10), headers)
    assert (huge.status_code, huge.json()["code"]) == (413, "413")
    gone = {"sourceUrl": f"{files}/missing.jpg", "targetUrl": f"{files}/face.jpg"}
    failed = post(live, seeds.ZHIQITE_PATH, json.dumps({**gone, "businessTaskId": "f-1"}), headers)
    assert failed.status_code == 200
    data = failed.json()["data"]
    assert data["status"] == 2 and data["outputImageUrl"] == "" and data["desc"]


# --- MJ-proxy -------------------------------------------------------------------------------


def test_mj_seed_example_is_a_validation_error(live: Live) -> None:
    reply = post(live, seeds.MJ_PATH, seeds.MJ_BODY, seeds.MJ_HEADERS)  # the seed sends no key
    assert reply.status_code == 401
    assert reply.json() == {
        "code": 4,
        "description": "invalid api key",
        "result": None,
        "properties": {},
    }
    headers = {**seeds.MJ_HEADERS, "mj-api-secret": live.api_key}
    reply = post(live, seeds.MJ_PATH, seeds.MJ_BODY, headers)  # empty images
    assert reply.status_code == 400
    assert reply.json() == {
        "code": 4,
        "description": "人脸图片不能为空",
        "result": None,
        "properties": {},
    }


def test_mj_swap_callback_and_task_routes(live: Live) -> None:
    face = base64.b64encode(images.astronaut_jpeg()).decode()
    target = base64.b64encode(images.grace_hopper_jpeg()).decode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {live.api_key}"}
    with webhook_receiver() as hook:
        body = json.loads(seeds.MJ_BODY) | {
            "sourceBase64": f"data:image/jpeg;base64,{face}",
            "targetBase64": target,  # bare base64 is taken as an image
            "notifyHook": hook.url,
        }
        reply = post(live, seeds.MJ_PATH, json.dumps(body), headers)
        assert reply.status_code == 200, reply.text
        submitted = reply.json()
        assert submitted["code"] in (1, 22) and submitted["result"].startswith("task_")
        task_id = submitted["result"]
        callback = json.loads(hook.wait_for(1)[0].body)
    fetched = get(live, f"/mj/task/{task_id}/fetch", headers).json()
    assert fetched["status"] == "SUCCESS" and fetched["progress"] == "100%"
    assert fetched["action"] == "SWAP_FACE" and fetched["state"] == "string"
    assert fetched["description"] == "/insight-face/swap" and fetched["failReason"] is None
    assert fetched["submitTime"] <= fetched["startTime"] <= fetched["finishTime"]
    assert download(fetched["imageUrl"]) == images.grace_hopper_jpeg()
    # the callback body is the bare Task (not faceport's event wrapper)
    assert {k: v for k, v in callback.items() if k != "imageUrl"} == {
        k: v for k, v in fetched.items() if k != "imageUrl"
    }
    listed = post(live, "/mj/task/list-by-condition", json.dumps({"ids": [task_id, "x"]}), headers)
    assert [t["id"] for t in listed.json()] == [task_id]
    assert post(live, "/mj/task/list-by-ids", "{}", headers).json() == []
    assert task_id in [t["id"] for t in get(live, "/mj/task/list", headers).json()]
    assert task_id not in [t["id"] for t in get(live, "/mj/task/queue", headers).json()]
    page = post(live, "/mj/task/query", json.dumps({"ids": [task_id], "pageSize": 5}), headers)
    assert page.json()["totalElements"] == 1 and page.json()["content"][0]["id"] == task_id
    assert page.json()["first"] and page.json()["last"]
    finished = post(live, f"/mj/task/{task_id}/cancel", "", headers).json()
    assert finished == {"code": 4, "description": "task already finished"}
    fast = get(live, f"/mj-fast/mj/task/{task_id}/fetch", headers).json()
    assert fast["id"] == task_id
    missing = get(live, "/mj/task/task_nothing/fetch", headers)
    assert missing.status_code == 404
    assert missing.json() == {
        "code": 3,
        "description": "task not found",
        "result": None,
        "properties": {},
    }
    assert get(live, f"/mj/task/{task_id}/image-seed", headers).json()["code"] == 4


def test_mj_errors(live: Live) -> None:
    headers = {"Content-Type": "application/json", "mj-api-secret": live.api_key}
    bad = post(
        live, seeds.MJ_PATH, json.dumps({"sourceBase64": "@@", "targetBase64": "@@@"}), headers
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == 4 and bad.json()["description"] == "人脸图片格式错误"
    same = base64.b64encode(images.astronaut_jpeg()).decode()
    twice = post(
        live, seeds.MJ_PATH, json.dumps({"sourceBase64": same, "targetBase64": same}), headers
    )
    assert twice.json()["description"] == "人脸图片和目标图片不能相同"
    huge = post(live, seeds.MJ_PATH, "x" * (MAX_BODY + 10), headers)
    assert (huge.status_code, huge.json()["code"]) == (413, 4)
    poor = {**headers, "mj-api-secret": live.new_key(credits=0)}
    no_credit = post(
        live,
        seeds.MJ_PATH,
        json.dumps({"sourceBase64": same, "targetUrl": "http://127.0.0.1:1/a.jpg"}),
        poor,
    )
    assert no_credit.status_code == 400 and no_credit.json()["description"] == "quota_not_enough"


# --- HeyGen (errors and statuses; the real video swap is in tests/e2e) -----------------------


def test_heygen_seed_examples_submit_and_fail_on_a_bad_clip(live: Live, files: str) -> None:
    headers = {"X-Api-Key": live.api_key, "Content-Type": "application/json"}
    for body in seeds.HEYGEN_BODIES:
        reply = post(live, seeds.HEYGEN_PATH, seeds.aimed(body, files), headers)
        assert reply.status_code == 200, reply.text
        data = reply.json()["data"]
        assert set(data) == {"execution_id", "status"} and data["status"] == "submitted"
    # the clip served here is not a video: the execution ends failed, with the reason
    path = f"/v1/workflows/executions/{data['execution_id']}"
    failed = poll(live, path, headers, lambda b: b["data"]["status"] == "failed")["data"]
    assert failed["error"]["code"] == "unsupported_media" and failed["error"]["message"]
    unknown = get(live, seeds.HEYGEN_STATUS_PATH, {"X-Api-Key": live.api_key})
    assert unknown.status_code == 200
    assert unknown.json() == {"data": {"execution_id": "node-gw-f1s2w3p4", "status": "not_found"}}


def test_heygen_errors(live: Live, files: str) -> None:
    seed = seeds.aimed(seeds.HEYGEN_BODIES[0], files)
    refused = post(live, seeds.HEYGEN_PATH, seed, {"Content-Type": "application/json"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    # the missing key is answered before the body is looked at
    bad_body = post(live, seeds.HEYGEN_PATH, '{"input": 1}', {"Content-Type": "application/json"})
    assert bad_body.status_code == 401
    headers = {"X-Api-Key": live.api_key, "Content-Type": "application/json"}
    other = json.dumps({**json.loads(seed), "workflow_type": "AvatarInferenceNode"})
    wrong = post(live, seeds.HEYGEN_PATH, other, headers)
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "invalid_parameter"
    assert wrong.json()["error"]["param"] == "workflow_type"
    no_url = post(
        live, seeds.HEYGEN_PATH, '{"workflow_type": "FaceswapNode", "input": {}}', headers
    )
    assert no_url.status_code == 400 and no_url.json()["error"]["param"].startswith("input.")
    huge = post(live, seeds.HEYGEN_PATH, "x" * (MAX_BODY + 10), headers)
    assert (huge.status_code, huge.json()["error"]["code"]) == (413, "payload_too_large")


# --- AILabTools -----------------------------------------------------------------------------


def fusion(
    live: Live, files: dict[str, Any], data: dict[str, str] | None = None, key: str | None = None
) -> httpx.Response:
    headers = {"ailabapi-api-key": key or live.api_key}
    with httpx.Client(base_url=live.url, timeout=30) as client:
        return client.post(seeds.AILAB_PATH, files=files, data=data or {}, headers=headers)


def test_ailab_fuses_jpeg_and_bmp_synchronously(live: Live) -> None:
    template = seeds.bmp(images.grace_hopper_jpeg())
    reply = fusion(
        live,
        {"image_target": ("a.jpg", images.astronaut_jpeg()), "image_template": ("t.bmp", template)},
        {"source_similarity": "0.7"},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["error_code"] == 0 and body["error_msg"] == ""
    assert body["error_detail"] == {
        "status_code": 200,
        "code": "",
        "code_message": "",
        "message": "",
    }
    assert isinstance(body["request_id"], str) and isinstance(body["log_id"], str)
    # the fake engine hands the template back as it came: the BMP passed every check
    assert base64.b64decode(body["data"]["image"]) == template


def test_ailab_errors(live: Live) -> None:
    face = ("a.jpg", images.astronaut_jpeg())
    missing = fusion(live, {"image_target": face})
    assert missing.status_code == 400 and missing.json()["error_code"] == 400
    assert (
        missing.json()["error_detail"]["code"] == "MISSING_PARAMETERS"
        and "data" not in missing.json()
    )
    both = {"image_target": face, "image_template": ("t.jpg", images.grace_hopper_jpeg())}
    out_of_range = fusion(live, both, {"source_similarity": "2"})
    assert out_of_range.json()["error_detail"]["code"] == "ERROR_INVALID_PARAMETER"
    tiny = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (100, 100)).save(tiny, format="PNG")
    small = fusion(live, {"image_target": ("s.png", tiny.getvalue()), "image_template": face})
    assert (
        small.status_code == 400
        and small.json()["error_detail"]["code"] == "ERROR_INVALID_PARAMETER"
    )
    as_json = post(
        live,
        seeds.AILAB_PATH,
        "{}",
        {"ailabapi-api-key": live.api_key, "Content-Type": "application/json"},
    )
    assert (
        as_json.status_code == 400 and as_json.json()["error_detail"]["code"] == "ERROR_PARAMETERS"
    )
    refused = fusion(live, both, key="nope")
    assert refused.status_code == 401
    assert refused.json()["error_detail"]["code"] == "ERROR_APPLICATIONS_NOT_EXISTS"
    no_face = ("n.jpg", images.astronaut_jpeg() + NO_FACE_MARKER)
    faceless = fusion(live, {"image_target": no_face, "image_template": face})
    assert faceless.status_code == 422 and faceless.json()["error_code"] == 422
    assert faceless.json()["error_detail"]["code"] == "ERROR_NO_FACE_IN_FILE"
    poor = fusion(live, both, key=live.new_key(credits=0))
    assert (
        poor.status_code == 429
        and poor.json()["error_detail"]["code"] == "ERROR_NOT_ENOUGH_CREDITS"
    )


# --- native additions and the OpenAPI document --------------------------------------------


def test_native_image_routes_take_multipart_and_bmp(live: Live) -> None:
    files = {
        "source": ("s.jpg", images.astronaut_jpeg()),
        "target": ("t.bmp", seeds.bmp(images.grace_hopper_jpeg())),
    }
    with live.client() as client:
        reply = client.post(
            "/v1/face-swap",
            files=files,
            data={"target_index": "0", "output_format": "jpg"},
            headers={"Prefer": "wait=10"},
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["status"] == "succeeded"
        assert reply.json()["params"]["output_format"] == "jpg"
        broken = client.post(
            "/v1/face-swap",
            content=b"--x\r\n",
            headers={"Content-Type": "multipart/form-data; boundary=y"},
        )
        assert broken.status_code in (400, 422) and "error" in broken.json()


def test_openapi_documents_every_dialect_route_under_its_tag(live: Live) -> None:
    schema = httpx.get(f"{live.url}/openapi.json").json()
    tags = {
        path: {tag for op in ops.values() for tag in op.get("tags", [])}
        for path, ops in schema["paths"].items()
    }
    assert tags["/api/v1/images/tools/face-swap"] == {"API in One"}
    assert tags["/AIGCImgOpenServ/saas/tool/roop"] == {"Zhiqite (roop)"}
    assert tags["/mj/insight-face/swap"] == {"MJ-proxy (InsightFace)"}
    assert tags["/mj/task/query"] == {"MJ-proxy (InsightFace)"}
    assert tags["/v1/workflows/executions"] == {"HeyGen (FaceswapNode)"}
    assert tags["/api/portrait/effects/face-fusion"] == {"AILabTools (Merge Portraits)"}
    # The routes declared undocumented (MJ-proxy's speed-mode aliases, the provider
    # callback) are left out.
    routes = [route for group in ROUTE_GROUPS.groups for route in group.routes]
    hidden = {(r.method.lower(), r.path) for r in routes if not r.documented}
    listed = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    assert hidden and not hidden & listed
    fusion = schema["paths"]["/api/portrait/effects/face-fusion"]["post"]["requestBody"]
    form = fusion["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["image_target", "image_template"]
