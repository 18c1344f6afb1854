"""The engine container's contract (`/ping`, `/invocations`) over real HTTP on loopback:
in-thread with FakeEngine, and `faceport engine-serve` as a process with the real engine."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from faceport.engine_protocol import EngineRequest, error_from_document
from faceport.engine_serving import make_engine_server
from faceport.errors import EngineFailed, NoFaceInSource
from faceport.ports import Engine
from faceport.tasks import TaskParams
from tests.support.fakes import NO_FACE_MARKER, FakeEngine
from tests.support.images import grace_hopper_jpeg
from tests.support.tiny import tiny_image

ROOT = Path(__file__).resolve().parents[2]


def request(
    address: tuple[str, int], method: str, path: str, body: bytes = b""
) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=60)
    try:
        connection.request(method, path, body, {"Content-Type": "application/json"})
        reply = connection.getresponse()
        return reply.status, reply.getheader("Content-Type") or "", reply.read()
    finally:
        connection.close()


def swap_request(source: bytes) -> bytes:
    target = tiny_image("JPEG")
    inputs = {"source": source, "target": target}
    params = TaskParams(output_format="jpg")
    return (
        EngineRequest(operation="face_swap", params=params, inputs=inputs)
        .model_dump_json()
        .encode()
    )


@contextmanager
def serving(engine: Engine) -> Iterator[tuple[str, int]]:
    """The serving contract over `engine` on a loopback port, in a thread."""
    server = make_engine_server("127.0.0.1", 0, engine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield ("127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def address(fake_engine: FakeEngine) -> Iterator[tuple[str, int]]:
    with serving(fake_engine) as address:
        yield address


def test_ping_answers_200(address: tuple[str, int]) -> None:
    assert request(address, "GET", "/ping")[0] == 200


def test_an_invocation_answers_the_result_with_its_media_type(
    address: tuple[str, int], fake_engine: FakeEngine
) -> None:
    status, content_type, body = request(address, "POST", "/invocations", swap_request(b"face"))
    assert (status, content_type) == (200, "image/jpeg")
    assert body == tiny_image("JPEG")  # FakeEngine answers the target
    assert fake_engine.last_options == {"target_index": 0, "face_map": None, "enhance": False}


def test_an_engine_error_answers_its_status_and_code(address: tuple[str, int]) -> None:
    status, content_type, body = request(
        address, "POST", "/invocations", swap_request(NO_FACE_MARKER)
    )
    assert (status, content_type) == (422, "application/json")
    assert isinstance(error_from_document(body), NoFaceInSource)


def test_bad_requests_and_routes_are_refused(address: tuple[str, int]) -> None:
    status, _, body = request(address, "POST", "/invocations", b'{"operation": "nope"}')
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_json"
    assert request(address, "GET", "/nope")[0] == 404
    assert isinstance(error_from_document(b"<html>502</html>"), EngineFailed)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_faceport_engine_serve_runs_the_real_engine() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faceport.cli",
            "engine-serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "serve",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(("127.0.0.1", port), "GET", "/ping")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (
                "engine-serve did not start"
            )
            time.sleep(0.2)
        body = (
            EngineRequest(
                operation="face_detect", params=TaskParams(), inputs={"image": grace_hopper_jpeg()}
            )
            .model_dump_json()
            .encode()
        )
        status, content_type, answer = request(("127.0.0.1", port), "POST", "/invocations", body)
        assert (status, content_type) == (200, "application/json")
        faces = json.loads(answer)["faces"]
        assert len(faces) == 1 and faces[0]["index"] == 0
    finally:
        process.terminate()
        process.wait(10)
        assert process.stdout is not None
        process.stdout.close()
