"""faceport-client against a real `faceport serve`: inputs of every kind, waiting with
progress, cancel, an idempotent retry after a dropped answer, webhook verification with a
real signed delivery, and the error classes."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx
import pytest
from faceport_client import (
    AsyncClient,
    AuthenticationError,
    Client,
    ConflictError,
    FaceportError,
    InsufficientCreditsError,
    InvalidRequestError,
    Task,
    TaskFailedError,
    TaskStatus,
    WebhookVerificationError,
)

from faceport.engine import read_digital_source_type
from tests.e2e.test_serve import Server
from tests.sdk.conftest import new_key
from tests.support.file_server import serve_files
from tests.support.images import astronaut_jpeg, coffee_jpeg, grace_hopper_jpeg, two_faces_jpeg
from tests.support.video import ClipSpec, write_clip
from tests.support.webhook_receiver import webhook_receiver


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    paths = {"astronaut": tmp_path / "astronaut.jpg", "hopper": tmp_path / "hopper.jpg"}
    paths["astronaut"].write_bytes(astronaut_jpeg())
    paths["hopper"].write_bytes(grace_hopper_jpeg())
    return paths


def test_swap_a_path_onto_a_url_with_progress_and_download(
    client: Client, photos: dict[str, Path], tmp_path: Path
) -> None:
    seen: list[Task] = []
    with serve_files({"/hopper.jpg": grace_hopper_jpeg()}) as files:
        task = client.swap(
            photos["astronaut"],
            f"{files}/hopper.jpg",
            output_format="webp",
            on_progress=seen.append,
        )
    assert task.status is TaskStatus.SUCCEEDED
    assert task.result is not None and task.result.content_type == "image/webp"
    assert seen[-1].status is TaskStatus.SUCCEEDED and seen[-1].progress == 100
    assert [t.progress for t in seen] == sorted(t.progress for t in seen)
    saved = task.download(tmp_path / "out.webp").read_bytes()
    assert saved[8:12] == b"WEBP"
    assert read_digital_source_type(saved) is not None


def test_swap_bytes_and_a_file_object_without_waiting(client: Client) -> None:
    queued = client.swap(astronaut_jpeg(), io.BytesIO(grace_hopper_jpeg()), wait=False)
    assert queued.status in (TaskStatus.QUEUED, TaskStatus.RUNNING)
    done = client.tasks.wait(queued.id)
    assert done.status is TaskStatus.SUCCEEDED
    assert client.tasks.get(queued.id).id == queued.id
    assert queued.id in [t.id for t in client.tasks.list(limit=5).data]


def test_detect_and_fuse(client: Client) -> None:
    faces = client.detect(two_faces_jpeg()).faces
    assert len(faces) == 2 and faces[0].index == 0
    assert faces[0].box.width * faces[0].box.height >= faces[1].box.width * faces[1].box.height
    fused = client.fuse(astronaut_jpeg(), grace_hopper_jpeg(), similarity=0.5)
    assert fused.operation == "face_fusion" and fused.status is TaskStatus.SUCCEEDED


def test_a_failed_task_raises_its_code(client: Client) -> None:
    with pytest.raises(TaskFailedError) as caught:
        client.swap(coffee_jpeg(), grace_hopper_jpeg())
    assert caught.value.code == "no_face_in_source"
    assert caught.value.task.status is TaskStatus.FAILED


def test_cancel_a_running_video(client: Client, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", ClipSpec(frames=90, audio=False))
    queued = client.swap_video(astronaut_jpeg(), clip, wait=False)
    canceled = client.tasks.cancel(queued.id)
    assert canceled.status is TaskStatus.CANCELED
    with pytest.raises(ConflictError) as caught:
        client.tasks.cancel(queued.id)
    assert caught.value.code == "task_not_cancelable"


class DropFirstAnswer(httpx.HTTPTransport):
    """Sends every request to the server for real, but loses the answer to the first
    submit, as a connection dropped after the server did the work would."""

    def __init__(self) -> None:
        super().__init__()
        self.submits: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path == "/v1/face-swap":
            self.submits.append(request.headers.get("idempotency-key"))
            if len(self.submits) == 1:
                response.close()
                raise httpx.RemoteProtocolError("server disconnected", request=request)
        return response


def test_a_dropped_answer_is_retried_with_the_same_key_and_charged_once(
    live_server: Server,
) -> None:
    transport = DropFirstAnswer()
    key = new_key(live_server, 100)
    with Client(base_url=live_server.url, api_key=key, transport=transport) as sdk:
        task = sdk.swap(astronaut_jpeg(), grace_hopper_jpeg())
        account = sdk.account()
        listed = sdk.tasks.list().data
    assert len(transport.submits) == 2 and transport.submits[0] == transport.submits[1]
    assert [t.id for t in listed] == [task.id]  # one task, not two
    assert account.balance == 100 - task.price and account.reserved == 0


def test_webhook_verify_with_a_real_delivery(client: Client) -> None:
    with webhook_receiver() as receiver:
        task = client.swap(astronaut_jpeg(), grace_hopper_jpeg(), notify_url=receiver.url)
        delivery = receiver.wait_for(1)[0]
    event = client.webhooks.verify(delivery.body, delivery.headers)
    assert event.type == "task.succeeded" and event.data.id == task.id
    with pytest.raises(WebhookVerificationError):
        client.webhooks.verify(delivery.body.replace(b"succeeded", b"failed"), delivery.headers)
    current = client.webhooks.secrets().current
    assert (
        client.webhooks.verify(delivery.body, delivery.headers, secret=current).data.id == task.id
    )


def test_errors_are_typed(live_server: Server) -> None:
    with (
        Client(base_url=live_server.url, api_key="fpk_nope") as sdk,
        pytest.raises(AuthenticationError) as caught,
    ):
        sdk.account()
    assert caught.value.code == "invalid_api_key" and caught.value.request_id
    poor = new_key(live_server, 0)
    with Client(base_url=live_server.url, api_key=poor) as sdk:
        with pytest.raises(InsufficientCreditsError):
            sdk.swap(astronaut_jpeg(), grace_hopper_jpeg())
        with pytest.raises(InvalidRequestError) as bad:
            sdk.swap(b"not an image", grace_hopper_jpeg())
    assert bad.value.code == "unsupported_media" and "source" in bad.value.message


def test_credentials_from_the_environment(
    live_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEPORT_API_URL", live_server.url)
    monkeypatch.setenv("FACEPORT_API_KEY", live_server.api_key)
    with Client() as sdk:
        assert sdk.account().name == "dev"
    monkeypatch.delenv("FACEPORT_API_KEY")
    with pytest.raises(FaceportError) as caught:
        Client()
    assert caught.value.code == "missing_api_key"


def test_async_client(live_server: Server, tmp_path: Path) -> None:
    async def run() -> tuple[Task, Path, int]:
        moved: list[int] = []

        async def report(task: Task) -> None:
            moved.append(task.progress)

        key = new_key(live_server, 100)
        async with AsyncClient(base_url=live_server.url, api_key=key) as sdk:
            task = await sdk.swap(astronaut_jpeg(), grace_hopper_jpeg(), on_progress=report)
            path = await sdk.download(task, tmp_path / "out.png")
            return task, path, moved[-1]

    task, path, last = asyncio.run(run())
    assert task.status is TaskStatus.SUCCEEDED and last == 100
    assert path.read_bytes().startswith(b"\x89PNG")
