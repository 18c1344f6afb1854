"""POST /v1/video-face-swap through the resolver, the local worker pool and the real engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.settings import Settings
from tests.conftest import b64
from tests.support import images
from tests.support.api_client import Api, call, new_account
from tests.support.file_server import serve_files
from tests.support.tiny import tiny_image
from tests.support.video import ClipSpec, write_clip

SOURCE = b64(images.astronaut_jpeg())


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("api-clips")
    return {
        "short": write_clip(folder / "short.mp4", ClipSpec(frames=20)).read_bytes(),
        # long enough (a few seconds of work) to watch progress and to cancel midway
        "long": write_clip(folder / "long.mp4", ClipSpec(frames=150, audio=False)).read_bytes(),
    }


def make_app(tmp_path: Path, **limits: Any) -> Iterator[tuple[Api, LocalRuntime]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        allow_private_urls=True,
        # These tests poll the task; rate limits are tested elsewhere.
        rate_limit_per_s=1000,
        rate_limit_burst=1000,
        progress_interval_s=0.02,  # progress must be seen moving however fast the clip goes
        **limits,
    )
    runtime = build_local_runtime(settings)  # the real, in-process engine
    runtime.start()
    accounts = runtime.accounts
    yield Api(runtime.services, new_account(accounts, accounts, credits=10_000)), runtime
    runtime.stop()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Api, LocalRuntime]]:
    yield from make_app(tmp_path)


def submit(app: Api, video: bytes, **extra: Any) -> dict[str, Any]:
    body = {"source": {"base64": SOURCE}, "video": {"base64": b64(video)}, **extra}
    reply = call(app, "POST", "/v1/video-face-swap", body)
    assert reply.status == 202, reply.body
    return dict(reply.json())


def watch(app: Api, task_id: str, timeout_s: float = 60) -> list[dict[str, Any]]:
    """Poll the task until it ends; every view seen, in order."""
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = call(app, "GET", f"/v1/tasks/{task_id}").json()
        seen.append(view)
        if view["status"] in ("succeeded", "failed", "canceled"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not end: {seen[-1]}")


def video_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("video-")]


def test_video_swap_succeeds_with_moving_progress(
    api: tuple[Api, LocalRuntime], clips: dict[str, bytes], tmp_path: Path
) -> None:
    app, runtime = api
    task = submit(app, clips["long"], metadata={"order": 7})
    views = watch(app, task["id"])
    final = views[-1]
    assert final["status"] == "succeeded", final
    running = [v["progress"] for v in views if v["status"] == "running"]
    assert len({p for p in running if 5 < p < 100}) >= 2, running  # it moved while running
    assert running == sorted(running)
    assert final["progress"] == 100
    assert final["video"]["duration_s"] == pytest.approx(10.0)  # 150 frames at 15 fps
    assert final["video"]["frames"] == 150
    assert final["result"]["content_type"] == "video/mp4"
    key = final["result"]["url"].split("/files/")[1].split("?")[0]
    result = tmp_path / "result.mp4"
    runtime.blobs.get_file(key, result)
    with av.open(str(result)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 150


def test_video_url_input_and_reference_face(
    api: tuple[Api, LocalRuntime], clips: dict[str, bytes]
) -> None:
    app, _ = api
    with serve_files({"/clip.mp4": clips["short"]}) as base:
        body = {
            "source": {"base64": SOURCE},
            "video": {"url": f"{base}/clip.mp4"},
            "reference_face": {"base64": b64(images.grace_hopper_png())},
        }
        reply = call(app, "POST", "/v1/video-face-swap", body)
        assert reply.status == 202, reply.body
        final = watch(app, reply.json()["id"])[-1]
    assert final["status"] == "succeeded", final
    assert final["video"]["has_audio"] is True


def test_cancel_stops_the_work_and_leaves_no_result(
    api: tuple[Api, LocalRuntime], clips: dict[str, bytes]
) -> None:
    app, runtime = api
    task = submit(app, clips["long"])
    deadline = time.monotonic() + 30
    while not video_threads():  # frames are being worked on
        assert time.monotonic() < deadline
        time.sleep(0.02)
    reply = call(app, "POST", f"/v1/tasks/{task['id']}/cancel")
    assert reply.status == 200 and reply.json()["status"] == "canceled"
    canceled_at = time.monotonic()
    while video_threads():
        assert time.monotonic() - canceled_at < 2.0, "the work did not stop within 2 s"
        time.sleep(0.02)
    runtime.pool.stop()
    blobs = runtime.services.settings.data_dir / "blobs"
    assert not list(blobs.glob("results/*"))
    final = call(app, "GET", f"/v1/tasks/{task['id']}").json()
    assert final["status"] == "canceled" and final["result"] is None


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        ({"max_video_duration_s": 1.0}, "video_too_long"),
        ({"max_video_pixels": 320 * 240}, "video_resolution_too_high"),
    ],
)
def test_a_video_over_a_limit_fails_before_any_face_work(
    tmp_path: Path, clips: dict[str, bytes], limits: dict[str, Any], code: str
) -> None:
    for app, _ in make_app(tmp_path, **limits):
        task = submit(app, clips["short"])
        views = watch(app, task["id"])
        assert views[-1]["status"] == "failed"
        assert views[-1]["error"]["code"] == code
        assert all(v["progress"] == 0 for v in views), "failed in prepare, before the engine"


def test_an_unreadable_video_fails_with_its_code(
    api: tuple[Api, LocalRuntime], clips: dict[str, bytes]
) -> None:
    app, _ = api
    corrupt = clips["short"][:12] + bytes(range(256)) * 40  # an MP4 signature, then junk
    final = watch(app, submit(app, corrupt)["id"])[-1]
    assert (final["status"], final["error"]["code"]) == ("failed", "unreadable_video")


def test_submit_refuses_oversized_and_non_video_files(
    tmp_path: Path, clips: dict[str, bytes]
) -> None:
    for app, _ in make_app(tmp_path, max_video_bytes=10_000):
        body = {"source": {"base64": SOURCE}, "video": {"base64": b64(clips["short"])}}
        reply = call(app, "POST", "/v1/video-face-swap", body)
        assert (reply.status, reply.code) == (413, "input_too_large")
        body["video"] = {"base64": b64(tiny_image("PNG"))}
        reply = call(app, "POST", "/v1/video-face-swap", body)
        assert (reply.status, reply.code) == (415, "unsupported_media")
        assert not call(app, "GET", "/v1/tasks").json()["data"]  # nothing was stored


@pytest.mark.parametrize(
    "extra",
    [
        {"target_index": 0, "reference_face": {"base64": SOURCE}},
        {"target_index": -1},
        {"target_index": [0, 1]},
        {"output_format": "png"},
    ],
)
def test_bad_video_requests_are_422(api: tuple[Api, LocalRuntime], extra: dict[str, Any]) -> None:
    app, _ = api
    body = {"source": {"base64": SOURCE}, "video": {"base64": "AAAA"}, **extra}
    reply = call(app, "POST", "/v1/video-face-swap", body)
    assert (reply.status, reply.code) == (422, "validation_error")
