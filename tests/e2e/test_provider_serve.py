"""Two real `faceport serve` processes: A (an edge deployment without the work) routes face
swaps to B as a `faceport` provider. A's client gets its result and webhook from A; B's
ledger shows A's call, A's the client's charge, and `faceport admin provider-costs` on A
what B cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from faceport.provenance import read_digital_source_type
from tests.conftest import b64
from tests.e2e.test_serve import free_port, poll, start_server, stop
from tests.support.images import astronaut_jpeg, grace_hopper_jpeg
from tests.support.webhook_receiver import webhook_receiver


def test_an_edge_deployment_hands_face_swaps_to_a_bigger_one(tmp_path: Path) -> None:
    b = start_server(tmp_path / "b", free_port())
    a_port = free_port()
    try:
        with b.client() as client:
            b_before = client.get("/v1/account").json()
        providers = {
            "big": {
                "kind": "faceport",
                "base_url": b.url,
                "api_key": b.api_key,
                "cost": 0.04,
                "poll_interval_s": 30,
            }
        }
        a = start_server(
            tmp_path / "a",
            a_port,
            FACEPORT_PUBLIC_URL=f"http://127.0.0.1:{a_port}",
            FACEPORT_PROVIDERS=json.dumps(providers),
            FACEPORT_ROUTES=json.dumps({"face_swap": ["big"]}),
        )
        try:
            with webhook_receiver() as receiver, a.client() as client:
                a_before = client.get("/v1/account").json()
                reply = client.post(
                    "/v1/face-swap",
                    json={
                        "source": {"base64": b64(astronaut_jpeg())},
                        "target": {"base64": b64(grace_hopper_jpeg())},
                        "notify_url": receiver.url,
                    },
                )
                assert reply.status_code == 202, reply.text
                # B's webhook calls A back; A's fallback poll would come only after 30 s.
                task = poll(client, reply.json()["id"], timeout_s=25)
                assert task["status"] == "succeeded", task
                assert task["backend"]["name"] == "big" and task["backend"]["task_id"]
                assert task["result"]["url"].startswith(a.url)  # A's own link, not B's
                result = httpx.get(task["result"]["url"], timeout=30).content
                assert read_digital_source_type(result) is not None
                (event,) = receiver.wait_for(1)
                assert json.loads(event.body)["data"]["id"] == task["id"]
                a_after = client.get("/v1/account").json()
            assert a_before["balance"] - a_after["balance"] == task["price"]
            with b.client() as client:
                remote = client.get(f"/v1/tasks/{task['backend']['task_id']}").json()
                b_after = client.get("/v1/account").json()
            assert remote["status"] == "succeeded"
            assert b_before["balance"] - b_after["balance"] == remote["price"]
            costs = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "faceport.cli",
                    "admin",
                    "--data-dir",
                    str(tmp_path / "a"),
                    "provider-costs",
                    a_after["id"],
                ],
                capture_output=True,
                check=True,
                text=True,
            )
            shown = json.loads(costs.stdout)
            assert shown["total_cost"] == 0.04
            assert [t["task_id"] for t in shown["tasks"]] == [task["id"]]
        finally:
            stop(a)
    finally:
        stop(b)
