"""One scenario suite, two orchestrators: the local worker pool and the AWS flow (the real
ASL under moto). Both run the same workflow steps; these scenarios keep them from drifting.
The API is called through the real resolver in both shapes; the engine is FakeEngine."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from faceport.service import Services
from faceport.settings import Settings
from tests.conftest import b64
from tests.support.api_client import Api, call, new_account
from tests.support.aws import aws_world
from tests.support.fakes import NO_FACE_MARKER, FakeEngine
from tests.support.tiny import tiny_image

IMG = tiny_image("PNG")


@dataclass
class Shape:
    app: Api
    services: Services

    @classmethod
    def funded(cls, services: Services, credits: int = 100) -> Shape:
        """The API as a client of a new account with `credits` sees it."""
        return cls(
            Api(services, new_account(services.accounts, services.ledger, credits)), services
        )

    def settled_account(self) -> dict[str, Any]:
        """The account once no credits are held: a task's charge is settled just after its
        final state is written, not in the same transaction."""
        deadline = time.monotonic() + 10
        while True:
            account: dict[str, Any] = call(self.app, "GET", "/v1/account").json()
            if account["reserved"] == 0 or time.monotonic() > deadline:
                return account
            time.sleep(0.05)

    def submit(self, source: bytes = IMG, **options: Any) -> dict[str, Any]:
        body = {"source": {"base64": b64(source)}, "target": {"base64": b64(IMG)}, **options}
        reply = call(self.app, "POST", "/v1/face-swap", body)
        assert reply.status == 202, reply.body
        task: dict[str, Any] = reply.json()
        return task

    def wait(self, task_id: str) -> dict[str, Any]:
        self.services.tasks.wait_until_done(task_id, 20)
        task: dict[str, Any] = call(self.app, "GET", f"/v1/tasks/{task_id}").json()
        return task


@pytest.fixture(params=["local", "aws"])
def shape(
    request: pytest.FixtureRequest,
    settings: Settings,
    fake_engine: FakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Shape]:
    if request.param == "local":
        from faceport.adapters.local.runtime import build_local_runtime

        runtime = build_local_runtime(settings, engine=fake_engine)
        runtime.start()
        yield Shape.funded(runtime.services)
        runtime.stop()
    else:
        with aws_world(monkeypatch, fake_engine, heartbeat_s=5) as world:
            yield Shape.funded(world.runtime.services)


def test_a_submitted_task_is_queued_then_succeeds(shape: Shape) -> None:
    task = shape.submit()
    assert task["status"] in ("queued", "running")
    done = shape.wait(task["id"])
    assert done["status"] == "succeeded"
    assert done["progress"] == 100
    assert done["result"]["content_type"] == "image/png"
    listed = call(shape.app, "GET", "/v1/tasks?status=succeeded").json()["data"]
    assert [t["id"] for t in listed] == [task["id"]]
    account = shape.settled_account()
    assert (account["balance"], account["reserved"]) == (100 - done["price"], 0)


def test_an_engine_error_fails_the_task_with_its_code(shape: Shape) -> None:
    done = shape.wait(shape.submit(source=IMG + NO_FACE_MARKER)["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "no_face_in_source"
    assert done["result"] is None
    account = shape.settled_account()
    assert (account["balance"], account["reserved"]) == (100, 0)  # a failure costs nothing


def test_a_task_canceled_while_the_engine_works_stays_canceled(
    shape: Shape, fake_engine: FakeEngine
) -> None:
    fake_engine.gate = threading.Event()
    task = shape.submit()
    assert fake_engine.entered.wait(10)
    reply = call(shape.app, "POST", f"/v1/tasks/{task['id']}/cancel")
    assert reply.status == 200 and reply.json()["status"] == "canceled"
    fake_engine.gate.set()
    done = shape.wait(task["id"])
    assert done["status"] == "canceled"
    assert done["result"] is None
    again = call(shape.app, "POST", f"/v1/tasks/{task['id']}/cancel")
    assert again.status == 409 and again.code == "task_not_cancelable"


def test_a_task_that_ends_queues_its_signed_event_once(shape: Shape) -> None:
    # Nobody listens on port 9: the event is queued either way, and the shapes agree on it.
    task = shape.submit(notify_url="http://127.0.0.1:9/hook")
    assert shape.wait(task["id"])["status"] == "succeeded"
    # On AWS the tasks table's stream queues the event a moment after the task's end.
    deadline = time.monotonic() + 10
    while True:
        deliveries = call(shape.app, "GET", f"/v1/tasks/{task['id']}/deliveries").json()["data"]
        if deliveries or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [d["type"] for d in deliveries] == ["task.succeeded"]
    assert deliveries[0]["status"] in ("pending", "dead")
