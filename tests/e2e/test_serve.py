"""`faceport serve` as a user runs it: a real process on a loopback port, real photos, the
real engine, and the identity judge on the downloaded result."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from faceport.engine import read_digital_source_type
from tests.conftest import b64
from tests.support.file_server import serve_files
from tests.support.identity import identity_distance
from tests.support.images import astronaut_jpeg, coffee_jpeg, grace_hopper_jpeg

TERMINAL = {"succeeded", "failed", "canceled"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    port: int

    @property
    def api_key(self) -> str:
        """The development account's key (`serve --dev` writes it on first start)."""
        return (self.data_dir / "dev-api-key").read_text().strip()

    def client(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key or self.api_key}"}
        return httpx.Client(base_url=self.url, timeout=30, headers=headers)


def start_server(data_dir: Path, port: int, **env: str) -> Server:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faceport.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--dev",
        ],
        env={
            **os.environ,
            "FACEPORT_ALLOW_PRIVATE_URLS": "true",
            "FACEPORT_RATE_LIMIT_PER_S": "1000",
            "FACEPORT_RATE_LIMIT_BURST": "1000",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            up = httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200
            if up and (data_dir / "dev-api-key").exists():
                return Server(url, process, data_dir, port)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("faceport serve did not come up")


def stop(server: Server, sig: int = signal.SIGTERM) -> None:
    server.process.send_signal(sig)
    server.process.wait(30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_server(tmp_path / "data", free_port())
    yield running
    stop(running)


def poll(client: httpx.Client, task_id: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        task: dict[str, Any] = client.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in TERMINAL:
            return task
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not end")


@pytest.fixture
def photo_url() -> Iterator[str]:
    with serve_files({"/astronaut.jpg": astronaut_jpeg()}) as url:
        yield f"{url}/astronaut.jpg"


def test_swap_end_to_end_moves_identity_to_the_source(server: Server, photo_url: str) -> None:
    source, target = astronaut_jpeg(), grace_hopper_jpeg()
    with server.client() as client:
        reply = client.post(
            "/v1/face-swap",
            json={
                "source": {"url": photo_url},
                "target": {"base64": b64(target)},
                "output_format": "jpg",
            },
        )
        assert reply.status_code == 202
        task = poll(client, reply.json()["id"])
        assert task["status"] == "succeeded", task
        download = httpx.get(task["result"]["url"], timeout=30)
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/jpeg"
    result = download.content
    assert read_digital_source_type(result) is not None
    to_source = identity_distance(result, source)
    to_target = identity_distance(result, target)
    print(
        f"identity: result-source {to_source:.3f} result-target {to_target:.3f} "
        f"source-target {identity_distance(source, target):.3f}"
    )
    assert to_source < to_target


def test_expired_or_forged_links_are_refused(server: Server) -> None:
    with server.client() as client:
        reply = client.post(
            "/v1/face-swap",
            json={
                "source": {"base64": b64(astronaut_jpeg())},
                "target": {"base64": b64(grace_hopper_jpeg())},
            },
            headers={"Prefer": "wait=30"},
        )
        url = reply.json()["result"]["url"]
        forged = url.replace("sig=", "sig=0")
        assert client.get(forged).json()["error"]["code"] == "link_expired"
        assert client.get(url).status_code == 200


def test_no_face_fails_the_task_and_the_server_lives_on(server: Server) -> None:
    with server.client() as client:
        reply = client.post(
            "/v1/face-swap",
            json={
                "source": {"base64": b64(coffee_jpeg())},
                "target": {"base64": b64(grace_hopper_jpeg())},
            },
            headers={"Prefer": "wait=30"},
        )
        task = reply.json()
        assert (reply.status_code, task["status"]) == (200, "failed")
        assert task["error"]["code"] == "no_face_in_source"
        reply = client.post(
            "/v1/face-swap",
            json={
                "source": {"base64": b64(astronaut_jpeg())},
                "target": {"base64": b64(grace_hopper_jpeg())},
                "target_index": 3,
            },
            headers={"Prefer": "wait=30"},
        )
        assert reply.json()["error"]["code"] == "target_index_out_of_range"


def test_strict_server_refuses_loopback_urls_and_oversized_bodies(
    tmp_path: Path, photo_url: str
) -> None:
    strict = start_server(
        tmp_path / "strict",
        free_port(),
        FACEPORT_ALLOW_PRIVATE_URLS="false",
        FACEPORT_MAX_INPUT_BYTES="1000",
    )
    try:
        with strict.client() as client:
            reply = client.post(
                "/v1/face-swap",
                json={"source": {"url": photo_url}, "target": {"url": photo_url}},
            )
            assert (reply.status_code, reply.json()["error"]["code"]) == (400, "url_not_allowed")
            huge = b'{"source": {"base64": "' + b"A" * 2_000_000 + b'"}}'
            reply = client.post(
                "/v1/face-swap",
                content=huge,
                headers={"Content-Type": "application/json"},
            )
            assert (reply.status_code, reply.json()["error"]["code"]) == (413, "input_too_large")
            assert client.get("/v1/tasks").json()["data"] == []
    finally:
        stop(strict)


def test_killed_mid_task_every_task_still_ends(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    first = start_server(data_dir, port)
    body = {
        "source": {"base64": b64(astronaut_jpeg())},
        "target": {"base64": b64(grace_hopper_jpeg())},
    }
    with first.client() as client:
        ids = [client.post("/v1/face-swap", json=body).json()["id"] for _ in range(6)]
        deadline = time.monotonic() + 30
        while client.get("/v1/tasks?status=running").json()["data"] == []:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    stop(first, signal.SIGKILL)

    second = start_server(data_dir, port)
    try:
        with second.client() as client:
            ended = [poll(client, task_id) for task_id in ids]
    finally:
        stop(second)
    assert [t["status"] for t in ended] == ["succeeded"] * 6
