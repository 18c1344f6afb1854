"""A pending webhook delivery survives `faceport serve` being killed: the next start sends
it, signed with the secret the first process handed out, under the same `webhook-id`."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from tests.conftest import b64
from tests.e2e.test_serve import free_port, start_server, stop
from tests.support.tiny import tiny_image
from tests.support.webhook_receiver import wait_until, webhook_receiver

FAST_RETRIES = {
    "FACEPORT_WEBHOOK_RETRY_BASE_S": "1",
    "FACEPORT_WEBHOOK_RETRY_FACTOR": "1",
    "FACEPORT_WEBHOOK_RETRY_JITTER": "0",
}


def test_pending_delivery_is_sent_after_a_kill_and_restart(tmp_path: Path) -> None:
    data_dir, port, hook_port = tmp_path / "data", free_port(), free_port()
    first = start_server(data_dir, port, **FAST_RETRIES)
    try:
        with first.client() as client:
            key = client.get("/v1/webhooks/secret").json()["current"]
            task = client.post(
                "/v1/face-detect",
                json={
                    "image": {"base64": b64(tiny_image("PNG"))},
                    "notify_url": f"http://127.0.0.1:{hook_port}/hook",
                },
            ).json()
            assert task["status"] == "succeeded", task

            def first_try_failed() -> list[dict[str, Any]]:
                found: list[dict[str, Any]] = client.get(
                    f"/v1/tasks/{task['id']}/deliveries"
                ).json()["data"]
                return found if found and found[0]["attempts"] else []

            (pending,) = wait_until(first_try_failed, what="a failed first try")
    finally:
        stop(first, signal.SIGKILL)
    assert pending["status"] == "pending"

    with webhook_receiver(port=hook_port) as receiver:
        time.sleep(1.5)  # past the retry's due time: nothing may come while we are down
        assert receiver.received == []
        second = start_server(data_dir, port, **FAST_RETRIES)
        try:
            (got,) = receiver.wait_for(1)
            with second.client() as client:
                delivery = wait_until(
                    lambda: [
                        d
                        for d in client.get(f"/v1/tasks/{task['id']}/deliveries").json()["data"]
                        if d["status"] == "delivered"
                    ],
                    what="the delivery to be recorded",
                )[0]
        finally:
            stop(second)
    event = got.verify(key)
    assert event["type"] == "task.succeeded"
    assert event["data"]["id"] == task["id"]
    assert got.webhook_id == pending["event_id"] == delivery["event_id"]
    assert [a["status_code"] for a in delivery["attempts"]] == [None, 200]
