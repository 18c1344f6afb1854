"""The SQLite outbox and one try (`notify.attempt`) with a real receiver on loopback."""

from __future__ import annotations

import socket
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from faceport import notify
from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.adapters.local.sqlite_webhooks import SqliteWebhookStore
from faceport.fetch import FetchPolicy, post_url
from faceport.tasks import ACTIVE, Task, TaskParams, TaskStatus, utcnow
from faceport.webhooks import DeliveryStatus, RetryPolicy, WebhookEvent, final_event
from tests.support.webhook_receiver import webhook_receiver


def new_task(task_id: str = "task_00000000000a", notify_url: str | None = None) -> Task:
    return Task(
        id=task_id,
        account_id="acct_a",
        operation="face_swap",
        params=TaskParams(),
        inputs={},
        notify_url=notify_url or "http://127.0.0.1:9/hook",
        created_at=utcnow(),
    )


def test_final_event_commits_or_rolls_back_with_the_final_state(tmp_path: Path) -> None:
    fail_after_write = {"on": True}

    def on_end(db: sqlite3.Connection, task: Task) -> None:
        event = final_event(task, {"id": task.id})
        assert event is not None
        outbox.add_in(db, event)
        if fail_after_write["on"]:
            raise RuntimeError("crash between the outbox write and the commit")

    tasks = SqliteTaskStore(tmp_path / "db.sqlite3", on_end=on_end)
    outbox = SqliteWebhookStore(tasks)
    tasks.create(new_task())
    with pytest.raises(RuntimeError):
        tasks.update_if("task_00000000000a", ACTIVE, status=TaskStatus.SUCCEEDED)
    assert tasks.get("task_00000000000a").status is TaskStatus.QUEUED  # type: ignore[union-attr]
    assert outbox.deliveries("task_00000000000a") == []

    fail_after_write["on"] = False
    tasks.update_if("task_00000000000a", ACTIVE, status=TaskStatus.SUCCEEDED)
    (delivery,) = outbox.deliveries("task_00000000000a")
    assert delivery.event.type == "task.succeeded"
    assert delivery.status is DeliveryStatus.PENDING
    # A task ends once: a second terminal write is refused, and no second event appears.
    assert tasks.update_if("task_00000000000a", ACTIVE, status=TaskStatus.FAILED) is None
    assert len(outbox.deliveries("task_00000000000a")) == 1


def resolver_to(address: str) -> Any:
    """A DNS that answers `address` for every name (a rebinding attacker's DNS)."""

    def resolve(host: str, port: int, *_: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return resolve


def deps_for(outbox: SqliteWebhookStore, allow_private: bool) -> notify.WebhookDeps:
    policy = FetchPolicy(allow_private=allow_private, timeout_s=2)
    return notify.WebhookDeps(
        outbox=outbox,
        secrets=outbox,
        post=partial(post_url, policy=policy, resolve=resolver_to("127.0.0.1")),
        policy=RetryPolicy(max_attempts=3),
    )


@pytest.mark.parametrize("allow_private", [False, True])
def test_every_send_checks_where_the_name_points_now(tmp_path: Path, allow_private: bool) -> None:
    tasks = SqliteTaskStore(tmp_path / "db.sqlite3")
    outbox = SqliteWebhookStore(tasks)
    key = notify.signing_secrets(outbox, "acct_a")[0].secret
    with webhook_receiver() as receiver:
        # The name passed the check at submit; now its DNS answers loopback.
        url = f"http://hooks.example.test:{receiver.port}/hook"
        event = WebhookEvent(
            id="msg_1",
            type="task.succeeded",
            account_id="acct_a",
            task_id="task_1",
            url=url,
            created_at=utcnow(),
            payload={"type": "task.succeeded", "data": {}},
        )
        delivery = outbox.enqueue(event)
        done = notify.attempt(deps_for(outbox, allow_private), delivery)
        got = list(receiver.received)
    assert done is not None
    if allow_private:
        # Connected to the checked address, with the name kept in the Host header.
        assert done.status is DeliveryStatus.DELIVERED
        (request,) = got
        assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
        assert request.verify(key)["type"] == "task.succeeded"
    else:
        assert done.status is DeliveryStatus.DEAD
        assert got == []
        (attempt,) = outbox.deliveries("task_1")[0].history
        assert attempt.status_code is None
        assert attempt.error is not None and attempt.error.startswith("url_not_allowed")


def test_a_stale_try_is_not_recorded_twice(tmp_path: Path) -> None:
    tasks = SqliteTaskStore(tmp_path / "db.sqlite3")
    outbox = SqliteWebhookStore(tasks)
    with webhook_receiver([500]) as receiver:
        task = new_task(notify_url=receiver.url).model_copy(update={"status": TaskStatus.SUCCEEDED})
        event = final_event(task, {"id": task.id})
        assert event is not None
        delivery = outbox.enqueue(event)
        deps = deps_for(outbox, allow_private=True)
        first = notify.attempt(deps, delivery)
        # A second sender holding the same, now stale, copy sends but records nothing.
        assert notify.attempt(deps, delivery) is None
        assert len(receiver.received) == 2
    assert first is not None and first.status is DeliveryStatus.PENDING
    (stored,) = outbox.deliveries(task.id)
    assert [a.status_code for a in stored.history] == [500]
    assert stored.attempts == 1
