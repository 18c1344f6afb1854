"""Webhooks end to end in one process: the real resolver, SQLite outbox and sender threads,
and a real receiver on loopback that verifies every signature with `standardwebhooks`.
Retry delays are shortened by settings so a day's schedule runs in about a second."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from faceport.settings import Settings
from tests.conftest import b64
from tests.support.api_client import Api, call, new_account
from tests.support.fakes import NO_FACE_MARKER, FakeEngine
from tests.support.tiny import tiny_image
from tests.support.webhook_receiver import wait_until, webhook_receiver

IMG = b64(tiny_image("PNG"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        allow_private_urls=True,
        task_lease_s=2.0,
        webhook_max_attempts=4,
        webhook_retry_base_s=0.15,
        webhook_retry_factor=1.5,
        webhook_retry_jitter=0.0,
        webhook_timeout_s=0.5,
        # These tests poll the deliveries list; rate limits are tested elsewhere.
        rate_limit_per_s=1000,
        rate_limit_burst=1000,
    )


def secret(app: Api) -> str:
    return str(call(app, "GET", "/v1/webhooks/secret").json()["current"])


def submit(app: Api, notify_url: str, **extra: Any) -> dict[str, Any]:
    body = {"source": {"base64": IMG}, "target": {"base64": IMG}, "notify_url": notify_url}
    reply = call(app, "POST", "/v1/face-swap", {**body, **extra})
    assert reply.status == 202, reply.body
    task: dict[str, Any] = reply.json()
    return task


def deliveries(app: Api, task_id: str) -> list[dict[str, Any]]:
    reply = call(app, "GET", f"/v1/tasks/{task_id}/deliveries")
    assert reply.status == 200, reply.body
    data: list[dict[str, Any]] = reply.json()["data"]
    return data


def settled(app: Api, task_id: str, timeout_s: float = 20) -> dict[str, Any]:
    """The task's one delivery once it is no longer pending."""

    def check() -> dict[str, Any] | None:
        found = deliveries(app, task_id)
        return found[0] if found and found[0]["status"] != "pending" else None

    result: dict[str, Any] = wait_until(check, timeout_s, "the delivery to settle")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_success_is_signed_and_carries_the_task_as_get_shows_it(
    app: Api,
) -> None:
    key = secret(app)
    with webhook_receiver() as receiver:
        task = submit(app, receiver.url, metadata={"order": 7})
        (got,) = receiver.wait_for(1)
        delivery = settled(app, task["id"])
    event = got.verify(key)  # raises unless our signature checks out
    assert got.webhook_id == delivery["event_id"]
    assert event["type"] == "task.succeeded"
    shown = call(app, "GET", f"/v1/tasks/{task['id']}").json()
    assert event["data"]["id"] == task["id"]
    assert {k: v for k, v in event["data"].items() if k != "result"} == {
        k: v for k, v in shown.items() if k != "result"
    }
    assert event["data"]["result"]["url"].split("?")[0] == shown["result"]["url"].split("?")[0]
    assert event["data"]["metadata"] == {"order": 7}
    assert delivery["status"] == "delivered"
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] == 200
    assert attempt["number"] == 1
    assert attempt["error"] is None
    assert attempt["latency_ms"] >= 0


def test_failed_and_canceled_tasks_send_their_own_event_types(
    app: Api, fake_engine: FakeEngine
) -> None:
    key = secret(app)
    with webhook_receiver() as receiver:
        failing = {"base64": b64(tiny_image("PNG") + NO_FACE_MARKER)}
        submit(app, receiver.url, source=failing)
        (failed,) = receiver.wait_for(1)
        fake_engine.gate = threading.Event()
        task = submit(app, receiver.url)
        assert call(app, "POST", f"/v1/tasks/{task['id']}/cancel").status == 200
        fake_engine.gate.set()
        canceled = receiver.wait_for(2)[1]
    assert failed.verify(key)["type"] == "task.failed"
    assert failed.verify(key)["data"]["error"]["code"] == "no_face_in_source"
    assert canceled.verify(key)["type"] == "task.canceled"
    assert canceled.verify(key)["data"]["id"] == task["id"]


def test_receiver_down_then_up_gets_the_event(app: Api) -> None:
    key = secret(app)
    port = free_port()
    task = submit(app, f"http://127.0.0.1:{port}/hook")
    wait_until(
        lambda: deliveries(app, task["id"]) and deliveries(app, task["id"])[0]["attempts"],
        what="a first, failed try",
    )
    with webhook_receiver(port=port) as receiver:
        (got,) = receiver.wait_for(1)
        delivery = settled(app, task["id"])
    assert got.verify(key)["type"] == "task.succeeded"
    assert delivery["status"] == "delivered"
    first, *_, last = delivery["attempts"]
    assert first["status_code"] is None
    assert "connect" in first["error"].lower()
    assert last["status_code"] == 200


def test_500_three_times_then_200_is_retried_with_the_same_webhook_id(
    app: Api,
) -> None:
    key = secret(app)
    with webhook_receiver([500, 500, 500]) as receiver:
        task = submit(app, receiver.url)
        got = receiver.wait_for(4)
        delivery = settled(app, task["id"])
    assert len({r.webhook_id for r in got}) == 1
    assert all(r.signed_by(key) for r in got)
    # Each try is signed anew at its send time (the header has whole seconds).
    assert all(abs(int(r.headers["webhook-timestamp"]) - r.at) < 1.5 for r in got)
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500, 200]
    assert delivery["status"] == "delivered"
    gaps = [b.at - a.at for a, b in itertools.pairwise(got)]
    # base 0.15 s, factor 1.5, no jitter: 0.15, 0.225, 0.34 s
    assert gaps[0] >= 0.14 and gaps[2] >= 0.33, gaps
    assert gaps[2] > gaps[0]


def test_410_stops_the_tries(app: Api) -> None:
    with webhook_receiver([410, 500, 500]) as receiver:
        task = submit(app, receiver.url)
        delivery = settled(app, task["id"])
        time.sleep(1.0)  # longer than the whole retry schedule
        assert len(receiver.received) == 1
    assert delivery["status"] == "gone"
    assert [a["status_code"] for a in delivery["attempts"]] == [410]


def test_receiver_that_never_answers_times_out_then_is_dead_and_can_be_redelivered(
    app: Api,
) -> None:
    key = secret(app)
    with webhook_receiver(["hang"] * 4) as receiver:
        task = submit(app, receiver.url)
        dead = settled(app, task["id"], timeout_s=30)
        assert dead["status"] == "dead"
        assert [a["error"] for a in dead["attempts"]] == ["Timed out after 0.5 s."] * 4
        assert all(a["latency_ms"] >= 450 for a in dead["attempts"])
        assert deliveries(app, task["id"]) == [dead]  # still visible
        # The consumer fixed their server: ask for the event again.
        reply = call(app, "POST", f"/v1/tasks/{task['id']}/deliveries/redeliver")
        assert reply.status == 202
        got = receiver.wait_for(5)
        again = wait_until(
            lambda: [d for d in deliveries(app, task["id"]) if d["status"] == "delivered"],
            what="the redelivery",
        )[0]
    assert got[4].webhook_id == got[0].webhook_id == dead["event_id"]
    assert got[4].verify(key)["type"] == "task.succeeded"
    assert [a["number"] for a in again["attempts"]] == [1, 2, 3, 4, 5]
    assert again["attempts"][-1]["status_code"] == 200


def test_redeliver_needs_a_finished_task_with_a_notify_url(
    app: Api, fake_engine: FakeEngine
) -> None:
    quiet = call(
        app,
        "POST",
        "/v1/face-swap",
        {"source": {"base64": IMG}, "target": {"base64": IMG}},
        {"Prefer": "wait=10"},
    ).json()
    reply = call(app, "POST", f"/v1/tasks/{quiet['id']}/deliveries/redeliver")
    assert (reply.status, reply.code) == (409, "nothing_to_redeliver")
    assert deliveries(app, quiet["id"]) == []
    fake_engine.gate = threading.Event()
    try:
        running = submit(app, "http://127.0.0.1:9/hook")
        reply = call(app, "POST", f"/v1/tasks/{running['id']}/deliveries/redeliver")
        assert (reply.status, reply.code) == (409, "nothing_to_redeliver")
    finally:
        fake_engine.gate.set()
    missing = call(app, "GET", "/v1/tasks/task_nope/deliveries")
    assert (missing.status, missing.code) == (404, "not_found")


def test_rotation_signs_with_old_and_new_during_grace_and_only_new_after(
    app: Api,
) -> None:
    old = secret(app)
    assert old.startswith("whsec_")
    assert secret(app) == old  # stable until rotated
    rotated = call(app, "POST", "/v1/webhooks/secret/rotate", {"grace_period_s": 600}).json()
    new = rotated["current"]
    assert new != old
    assert [s["secret"] for s in rotated["secrets"]] == [new, old]
    assert rotated["secrets"][1]["expires_at"] is not None
    with webhook_receiver() as receiver:
        submit(app, receiver.url)
        (during,) = receiver.wait_for(1)
        after_rotation = call(
            app, "POST", "/v1/webhooks/secret/rotate", {"grace_period_s": 0}
        ).json()
        newest = after_rotation["current"]
        assert [s["secret"] for s in after_rotation["secrets"]] == [newest]
        submit(app, receiver.url)
        after = receiver.wait_for(2)[1]
    assert during.signed_by(old) and during.signed_by(new)
    assert after.signed_by(newest)
    assert not after.signed_by(old) and not after.signed_by(new)


def test_default_grace_comes_from_settings(app: Api) -> None:
    old = secret(app)
    reply = call(app, "POST", "/v1/webhooks/secret/rotate")  # no body at all
    assert reply.status == 200, reply.body
    secrets = reply.json()["secrets"]
    assert secrets[1]["secret"] == old
    assert secrets[1]["expires_at"] > secrets[0]["created_at"]
    too_long = call(app, "POST", "/v1/webhooks/secret/rotate", {"grace_period_s": 10**9})
    assert (too_long.status, too_long.code) == (422, "validation_error")


def test_private_notify_url_is_refused_at_submit_when_private_urls_are_not_allowed(
    tmp_path: Path, fake_engine: FakeEngine
) -> None:
    from faceport.adapters.local.runtime import build_local_runtime

    strict = build_local_runtime(Settings(data_dir=tmp_path / "strict"), engine=fake_engine)
    app = Api(strict.services, new_account(strict.accounts, strict.accounts, credits=100))
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest",
        "ftp://example.com/hook",
    ):
        body = {"source": {"base64": IMG}, "target": {"base64": IMG}, "notify_url": url}
        reply = call(app, "POST", "/v1/face-swap", body)
        assert (reply.status, reply.code) == (400, "notify_url_not_allowed"), url
    assert call(app, "GET", "/v1/tasks").json()["data"] == []
    assert not list((tmp_path / "strict" / "blobs").rglob("*.png"))
