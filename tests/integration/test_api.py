"""The native API through the real resolver, local adapters and worker pool (fake engine)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.settings import Settings
from tests.conftest import b64
from tests.support.api_client import Api, Reply, call, new_account
from tests.support.fakes import NO_FACE_MARKER, FakeEngine
from tests.support.file_server import serve_files
from tests.support.tiny import png_declaring, tiny_image

IMG = b64(tiny_image("PNG"))


def swap_body(**overrides: Any) -> dict[str, Any]:
    return {"source": {"base64": IMG}, "target": {"base64": IMG}, **overrides}


def submit(app: Api, body: Any = None, **headers: str) -> Reply:
    return call(app, "POST", "/v1/face-swap", swap_body() if body is None else body, headers)


def test_submit_answers_202_with_a_stored_task(app: Api) -> None:
    reply = submit(app, swap_body(metadata={"order": 42}, output_format="webp"))
    assert reply.status == 202
    task = reply.json()
    assert task["status"] in ("queued", "running", "succeeded")
    assert task["metadata"] == {"order": 42}
    assert task["params"] == {"target_index": 0, "output_format": "webp", "enhance": False}
    assert reply.headers["location"] == f"/v1/tasks/{task['id']}"
    assert call(app, "GET", f"/v1/tasks/{task['id']}").status == 200


def test_prefer_wait_returns_the_finished_task_inline(app: Api) -> None:
    reply = submit(app, prefer="wait=10")
    assert reply.status == 200
    assert reply.headers["preference-applied"] == "wait=10"
    task = reply.json()
    assert task["status"] == "succeeded"
    assert task["result"]["url"].startswith("http://127.0.0.1:8000/files/results/")
    assert task["result"]["content_type"] == "image/png"
    assert task["timings"]["total_ms"] is not None


def test_prefer_wait_that_runs_out_still_answers_202(app: Api, fake_engine: FakeEngine) -> None:
    fake_engine.gate = threading.Event()
    try:
        reply = submit(app, prefer="wait=1")
        assert reply.status == 202
        assert reply.json()["status"] in ("queued", "running")
    finally:
        fake_engine.gate.set()


def test_failed_task_has_a_stable_code(app: Api) -> None:
    body = swap_body(source={"base64": b64(tiny_image("PNG") + NO_FACE_MARKER)})
    task = submit(app, body, prefer="wait=10").json()
    assert task["status"] == "failed"
    assert task["error"]["code"] == "no_face_in_source"
    assert task["result"] is None


def test_list_newest_first_with_cursor_and_status_filter(app: Api) -> None:
    ids = [submit(app, prefer="wait=10").json()["id"] for _ in range(5)]
    first = call(app, "GET", "/v1/tasks?limit=2").json()
    second = call(app, "GET", f"/v1/tasks?limit=2&cursor={first['next_cursor']}").json()
    third = call(app, "GET", f"/v1/tasks?limit=2&cursor={second['next_cursor']}").json()
    listed = [t["id"] for page in (first, second, third) for t in page["data"]]
    assert listed == list(reversed(ids))
    assert third["next_cursor"] is None
    assert call(app, "GET", "/v1/tasks?status=failed").json()["data"] == []
    assert len(call(app, "GET", "/v1/tasks?status=succeeded&limit=100").json()["data"]) == 5


@pytest.mark.parametrize(
    "query", ["status=bogus", "limit=0", "limit=101", "limit=x", "cursor=%21%21"]
)
def test_list_rejects_bad_queries(app: Api, query: str) -> None:
    reply = call(app, "GET", f"/v1/tasks?{query}")
    assert reply.status == 422
    assert reply.code == "validation_error"


def test_cancel_a_running_task_leaves_no_result(
    app: Api, fake_engine: FakeEngine, runtime: LocalRuntime
) -> None:
    fake_engine.gate = threading.Event()
    task = submit(app).json()
    assert fake_engine.entered.wait(5)
    reply = call(app, "POST", f"/v1/tasks/{task['id']}/cancel")
    assert reply.status == 200 and reply.json()["status"] == "canceled"
    fake_engine.gate.set()
    final = runtime.services.tasks.wait_until_done(task["id"], 1)
    assert final is not None and final.status == "canceled"
    # the worker finishes its step, finds the task canceled, and removes its result
    runtime.pool.stop()
    assert not list((runtime.services.settings.data_dir / "blobs").glob("results/*"))
    assert call(app, "GET", f"/v1/tasks/{task['id']}").json()["result"] is None


def test_cancel_an_ended_task_is_409(app: Api) -> None:
    task = submit(app, prefer="wait=10").json()
    reply = call(app, "POST", f"/v1/tasks/{task['id']}/cancel")
    assert (reply.status, reply.code) == (409, "task_not_cancelable")


def test_unknown_task_and_route_are_404(app: Api) -> None:
    assert call(app, "GET", "/v1/tasks/task_nope").code == "not_found"
    assert call(app, "POST", "/v1/tasks/task_nope/cancel").code == "not_found"
    assert call(app, "GET", "/v2/whatever").code == "route_not_found"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "invalid_json"),
        ({}, 422, "validation_error"),
        ({"source": {"base64": IMG}}, 422, "validation_error"),
        (swap_body(extra=1), 422, "validation_error"),
        (swap_body(source={"base64": IMG, "url": "http://x"}), 422, "validation_error"),
        (swap_body(source={}), 422, "validation_error"),
        (swap_body(target_index=-1), 422, "validation_error"),
        (swap_body(target_index="first"), 422, "validation_error"),
        (swap_body(output_format="gif"), 422, "validation_error"),
        (swap_body(source={"base64": "@@@not-base64@@@"}), 400, "invalid_base64"),
        (swap_body(source={"base64": b64(b"just some text")}), 415, "unsupported_media"),
        (swap_body(source={"base64": b64(tiny_image("GIF"))}), 415, "unsupported_media"),
        (swap_body(target={"base64": b64(png_declaring(50_000, 50_000))}), 413, "image_too_large"),
        (swap_body(source={"url": "ftp://example.com/a.png"}), 400, "url_not_allowed"),
        (swap_body(source={"url": "http://169.254.169.254/latest"}), 400, "url_not_allowed"),
    ],
)
def test_bad_requests_get_a_stable_4xx_and_store_nothing(
    app: Api, body: Any, status: int, code: str
) -> None:
    reply = submit(app, body)
    assert (reply.status, reply.code) == (status, code), reply.body
    assert reply.json()["error"]["message"]
    assert call(app, "GET", "/v1/tasks").json()["data"] == []


def test_body_must_be_json(app: Api) -> None:
    reply = call(app, "POST", "/v1/face-swap", "a=b", {"Content-Type": "text/plain"})
    assert (reply.status, reply.code) == (415, "unsupported_content_type")


def test_oversized_base64_is_413(settings: Settings, fake_engine: FakeEngine) -> None:
    small = settings.model_copy(update={"max_input_bytes": 50})
    rt = build_local_runtime(small, engine=fake_engine)
    reply = submit(Api(rt.services, new_account(rt.accounts, rt.accounts, credits=100)))
    assert (reply.status, reply.code) == (413, "input_too_large")


@pytest.fixture
def image_server() -> Iterator[str]:
    pages = {"/face.jpg": tiny_image("JPEG"), "/page.html": b"<html>nope</html>"}
    with serve_files(pages) as url:
        yield url


def test_url_inputs_are_fetched_by_the_workflow(app: Api, image_server: str) -> None:
    body = swap_body(source={"url": f"{image_server}/face.jpg"})
    task = submit(app, body, prefer="wait=10").json()
    assert task["status"] == "succeeded", task


def test_url_that_is_not_an_image_fails_the_task(app: Api, image_server: str) -> None:
    body = swap_body(target={"url": f"{image_server}/page.html"})
    task = submit(app, body, prefer="wait=10").json()
    assert (task["status"], task["error"]["code"]) == ("failed", "unsupported_media")


def test_loopback_urls_are_refused_unless_allowed(
    settings: Settings, fake_engine: FakeEngine, image_server: str
) -> None:
    strict = settings.model_copy(update={"allow_private_urls": False})
    rt = build_local_runtime(strict, engine=fake_engine)
    app = Api(rt.services, new_account(rt.accounts, rt.accounts, credits=100))
    reply = submit(app, swap_body(source={"url": f"{image_server}/face.jpg"}))
    assert (reply.status, reply.code) == (400, "url_not_allowed")


def test_openapi_document_and_docs(app: Api) -> None:
    from openapi_spec_validator import validate

    reply = call(app, "GET", "/openapi.json")
    assert reply.status == 200
    document = reply.json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert {
        "/v1/face-swap",
        "/v1/tasks",
        "/v1/tasks/{task_id}",
        "/v1/tasks/{task_id}/cancel",
    } <= set(document["paths"])
    docs = call(app, "GET", "/docs")
    assert docs.status == 200 and "swagger" in docs.body.lower()


def test_base64_body_is_decoded_from_a_data_uri(app: Api) -> None:
    uri = "data:image/png;base64," + base64.b64encode(tiny_image("PNG")).decode()
    assert submit(app, swap_body(target={"base64": uri})).status == 202


@pytest.mark.parametrize(
    ("selection", "face_map"),
    [
        ({"target_index": 2}, None),
        ({"target_index": [0, 2]}, None),
        ({"target_index": "all"}, None),
        ({"face_map": [{"source_index": 1, "target_index": 0}]}, [(1, 0)]),
        ({"target_index": 0, "enhance": True}, None),
    ],
)
def test_face_selection_reaches_the_engine(
    app: Api,
    fake_engine: FakeEngine,
    selection: dict[str, Any],
    face_map: list[tuple[int, int]] | None,
) -> None:
    task = submit(app, swap_body(**selection), prefer="wait=10").json()
    assert task["status"] == "succeeded"
    expected_index = selection.get("target_index", 0)
    enhance = selection.get("enhance", False)
    assert fake_engine.last_options == {
        "target_index": expected_index,
        "face_map": face_map,
        "enhance": enhance,
    }
    assert task["params"]["target_index"] == expected_index
    assert task["params"]["enhance"] is enhance


@pytest.mark.parametrize(
    "selection",
    [
        {"target_index": []},
        {"target_index": [0, -1]},
        {"target_index": 100},
        {"target_index": "some"},
        {"face_map": []},
        {"face_map": [{"source_index": 0}]},
        {"face_map": [{"source_index": 0, "target_index": 0, "x": 1}]},
    ],
)
def test_bad_face_selection_is_422(app: Api, selection: dict[str, Any]) -> None:
    reply = submit(app, swap_body(**selection))
    assert (reply.status, reply.code) == (422, "validation_error"), reply.body


def test_face_fusion_is_a_task_with_similarity(app: Api, fake_engine: FakeEngine) -> None:
    body = {"source": {"base64": IMG}, "target": {"base64": IMG}, "similarity": 0.3}
    reply = call(app, "POST", "/v1/face-fusion", body, {"Prefer": "wait=10"})
    task = reply.json()
    assert (reply.status, task["operation"], task["status"]) == (200, "face_fusion", "succeeded")
    assert task["params"] == {"similarity": 0.3, "output_format": "png"}
    assert fake_engine.last_options == {"similarity": 0.3}
    assert task["result"]["url"]


@pytest.mark.parametrize("similarity", [-0.1, 1.5, "high", None])
def test_face_fusion_similarity_must_be_0_to_1(app: Api, similarity: Any) -> None:
    body = {"source": {"base64": IMG}, "target": {"base64": IMG}, "similarity": similarity}
    reply = call(app, "POST", "/v1/face-fusion", body)
    assert (reply.status, reply.code) == (422, "validation_error")


def test_face_detect_answers_inline(app: Api) -> None:
    reply = call(app, "POST", "/v1/face-detect", {"image": {"base64": IMG}})
    task = reply.json()
    assert (reply.status, task["operation"], task["status"]) == (200, "face_detect", "succeeded")
    assert task["params"] == {}
    face = task["result"]["faces"][0]
    assert face["index"] == 0 and face["box"]["width"] == 3 and len(face["landmarks"]) == 5
    assert task["result"]["url"] is None


def test_face_detect_of_a_bad_input_is_4xx(app: Api) -> None:
    reply = call(app, "POST", "/v1/face-detect", {"image": {"base64": b64(b"nope")}})
    assert (reply.status, reply.code) == (415, "unsupported_media")
