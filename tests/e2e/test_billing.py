"""Billing on a real `faceport serve`: an operator makes an account with the admin CLI
while the server runs; good swaps are charged, swaps that fail (no face in the source) are
not, a repeated Idempotency-Key is charged once, and the ledger adds up."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.conftest import b64
from tests.e2e.test_serve import Server, poll, server
from tests.support.images import astronaut_jpeg, coffee_jpeg, grace_hopper_jpeg

PRICE = 4
__all__ = ["server"]  # the fixture, shared with test_serve


def admin(data_dir: Path, *argv: str) -> str:
    command = [sys.executable, "-m", "faceport.cli", "admin", "--data-dir", str(data_dir), *argv]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_only_successful_swaps_are_charged(server: Server) -> None:
    made = json.loads(admin(server.data_dir, "create-account", "e2e", "--credits", "40"))
    good = {
        "source": {"base64": b64(astronaut_jpeg())},
        "target": {"base64": b64(grace_hopper_jpeg())},
    }
    bad = {"source": {"base64": b64(coffee_jpeg())}, "target": good["target"]}
    bodies = [good, bad, good, bad, good]

    with server.client(made["api_key"]) as client:

        def submit(n: int) -> str:
            headers = {"Idempotency-Key": f"job-{n}"}
            reply = client.post("/v1/face-swap", json=bodies[n], headers=headers)
            assert reply.status_code == 202, reply.text
            return str(reply.json()["id"])

        with ThreadPoolExecutor(len(bodies)) as pool:
            ids = list(pool.map(submit, range(len(bodies))))
        # a client retrying job-0 gets the same task and pays nothing more
        assert (
            client.post("/v1/face-swap", json=good, headers={"Idempotency-Key": "job-0"}).json()[
                "id"
            ]
            == ids[0]
        )
        ended = [poll(client, task_id) for task_id in ids]
        assert [t["status"] for t in ended] == ["succeeded", "failed"] * 2 + ["succeeded"]
        assert {t["error"]["code"] for t in ended if t["error"]} == {"no_face_in_source"}
        account = settled(client)

    assert (account["balance"], account["reserved"], account["available"]) == (28, 0, 28)
    assert account["usage"] == {"face_swap": {"count": 3, "credits": 3 * PRICE}}
    rows = [
        json.loads(line)
        for line in admin(server.data_dir, "ledger", made["account_id"], "--json").splitlines()
    ]
    assert sorted(r["kind"] for r in rows) == ["commit"] * 3 + ["release"] * 2 + ["reserve"] * 5 + [
        "top_up"
    ]
    assert (rows[-1]["balance"], rows[-1]["reserved"]) == (28, 0)
    print("\n" + admin(server.data_dir, "ledger", made["account_id"]))


def settled(client: Any, timeout_s: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while (account := client.get("/v1/account").json())["reserved"] and time.monotonic() < deadline:
        time.sleep(0.05)
    result: dict[str, Any] = account
    return result


def test_requests_without_a_good_key_are_401(server: Server) -> None:
    with server.client("fpk_0000000000000000_" + "A" * 40) as client:
        reply = client.get("/v1/tasks")
    assert (reply.status_code, reply.json()["error"]["code"]) == (401, "invalid_api_key")
    with server.client() as client:
        del client.headers["Authorization"]
        reply = client.get("/v1/account")
        assert (reply.status_code, reply.json()["error"]["code"]) == (401, "missing_api_key")
        assert client.get("/openapi.json").status_code == 200
