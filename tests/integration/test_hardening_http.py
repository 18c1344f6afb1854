"""Issue 18's faults, each through the real HTTP server on loopback (SQLite, worker pool,
a fake engine): every hostile request gets a 4xx in the JSON envelope, nothing is stored,
held or charged for it, and the server goes on serving."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faceport.adapters.local.file_blobs import FileBlobStore
from faceport.adapters.local.http_server import HttpLimits, make_server
from faceport.settings import Settings
from tests.conftest import b64
from tests.support.fakes import FakeEngine
from tests.support.live_server import Live, live_server
from tests.support.tiny import tiny_image

LIMITS = HttpLimits(idle_timeout_s=1.0, header_timeout_s=1.0, body_timeout_s=1.0)


@pytest.fixture
def live(settings: Settings) -> Iterator[Live]:
    with live_server(settings, FakeEngine(), limits=LIMITS) as running:
        yield running


def swap_body(**extra: Any) -> dict[str, Any]:
    image = {"base64": b64(tiny_image())}
    return {"source": image, "target": image, **extra}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def raw_exchange(live: Live, data: bytes, timeout_s: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (or the timeout)."""
    with socket.create_connection(("127.0.0.1", live.port), timeout=timeout_s) as sock:
        sock.sendall(data)
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except TimeoutError:
            reply += b"<still open>"
    return reply


def status_and_error(reply: bytes) -> tuple[int, str]:
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body)["error"]["code"]


def assert_nothing_left(live: Live, client: httpx.Client) -> None:
    """No task, no hold, no input file: a refusal leaves nothing behind."""
    assert client.get("/v1/tasks").json()["data"] == []
    account = client.get("/v1/account").json()
    assert (account["reserved"], account["available"]) == (0, 1_000_000)
    inputs = live.runtime.services.settings.data_dir / "blobs" / "inputs"
    assert not inputs.exists() or not [p for p in inputs.rglob("*") if p.is_file()]


def post_raw(client: httpx.Client, path: str, text: str | bytes, **headers: str) -> httpx.Response:
    return client.post(path, content=text, headers={"Content-Type": "application/json", **headers})


# -- critical 1-2, medium 6-7: metadata that could not be read back ----------------------


@pytest.mark.parametrize("depth", [9, 33, 200, 255, 300])
def test_deep_metadata_is_refused_and_leaves_nothing(live: Live, depth: int) -> None:
    with live.client() as client:
        reply = client.post("/v1/face-swap", json=swap_body(metadata=nested(depth)))
        assert reply.status_code in (400, 422), reply.text
        assert reply.json()["error"]["code"] == "validation_error"
        assert_nothing_left(live, client)


def test_deep_metadata_with_notify_url_is_refused(live: Live) -> None:
    body = swap_body(metadata=nested(198), notify_url="http://127.0.0.1:9/hook")
    with live.client() as client:
        reply = client.post("/v1/face-swap", json=body)
        assert reply.json()["error"]["code"] == "validation_error"
        assert_nothing_left(live, client)


def test_metadata_within_limits_is_stored_and_read_back(live: Live) -> None:
    metadata = {"deep": nested(7), "n": 2**53 - 1, "x": 1.5, "s": "é" * 100, "ok": None}
    with live.client() as client:
        task = client.post("/v1/face-swap", json=swap_body(metadata=metadata)).json()
        assert client.get(f"/v1/tasks/{task['id']}").json()["metadata"] == metadata
        listed = client.get("/v1/tasks").json()["data"]
        assert listed[0]["metadata"] == metadata


@pytest.mark.parametrize(
    "metadata",
    [
        {"big": "x" * 20_000},  # over the byte cap (a 10 MB one is over the body cap too)
        {f"k{i}": i for i in range(300)},  # too many keys
        {"n": 2**60},  # not exact in JavaScript
        {"k" * 300: 1},  # key too long
    ],
    ids=["bytes", "keys", "int-range", "key-length"],
)
def test_metadata_over_a_limit_is_refused(live: Live, metadata: dict[str, Any]) -> None:
    with live.client() as client:
        reply = client.post("/v1/face-swap", json=swap_body(metadata=metadata))
        assert (reply.status_code, reply.json()["error"]["code"]) == (422, "validation_error")
        assert_nothing_left(live, client)


def test_ten_megabyte_metadata_is_refused_unread(live: Live) -> None:
    body = json.dumps(swap_body(metadata={"big": "x" * 10_000_000}))
    with live.client() as client:
        reply = post_raw(client, "/v1/face-swap", body)
        assert (reply.status_code, reply.json()["error"]["code"]) == (413, "input_too_large")
    with live.client() as client:
        assert_nothing_left(live, client)


# -- medium 7, low 10-11: strict JSON ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status", "code"),
    [
        ("[" * 100_000 + "]" * 100_000, 422, "validation_error"),
        ('{"a":' * 40 + "1" + "}" * 40, 422, "validation_error"),
        ('{"source": "\\ud800"}', 400, "invalid_json"),
        (
            '{"source": {"url": "http://x/\\udfff"}, "target": {"url": "http://y"}}',
            400,
            "invalid_json",
        ),
        ('{"metadata": {"n": ' + "9" * 5000 + "}}", 400, "invalid_json"),
        ('{"metadata": {"n": NaN}}', 400, "invalid_json"),
        ('{"metadata": {"n": Infinity}}', 400, "invalid_json"),
        ('{"metadata": {"n": -Infinity}}', 400, "invalid_json"),
        ('{"metadata": {"n": 1e309}}', 400, "invalid_json"),
        ("[]", 422, "validation_error"),
        ('"just a string"', 422, "validation_error"),
        ("{", 400, "invalid_json"),
    ],
    ids=[
        "depth-100000",
        "depth-40",
        "lone-surrogate",
        "lone-surrogate-url",
        "int-5000-digits",
        "nan",
        "infinity",
        "minus-infinity",
        "1e309",
        "empty-array",
        "string",
        "truncated",
    ],
)
def test_json_that_cannot_be_stored_is_refused(
    live: Live, text: str, status: int, code: str
) -> None:
    with live.client() as client:
        reply = post_raw(client, "/v1/face-swap", text)
        assert (reply.status_code, reply.json()["error"]["code"]) == (status, code), reply.text
        assert_nothing_left(live, client)


def test_invalid_utf8_is_refused_not_replaced(live: Live) -> None:
    body = json.dumps(swap_body(metadata={"name": "X"})).encode().replace(b"X", b"\xff\xfe")
    with live.client() as client:
        reply = post_raw(client, "/v1/face-swap", body)
        assert (reply.status_code, reply.json()["error"]["code"]) == (400, "invalid_json")
        assert_nothing_left(live, client)


# -- medium 8: an array is not an object ----------------------------------------------------


def test_an_array_body_is_refused_not_cut_to_its_first_element(live: Live) -> None:
    with live.client() as client:
        reply = client.post("/v1/face-swap", json=[swap_body(), swap_body()])
        assert (reply.status_code, reply.json()["error"]["code"]) == (422, "validation_error")
        assert_nothing_left(live, client)


def test_an_array_body_does_not_rotate_the_secret(live: Live) -> None:
    with live.client() as client:
        before = client.get("/v1/webhooks/secret").json()
        reply = client.post("/v1/webhooks/secret/rotate", json=[None, None])
        assert (reply.status_code, reply.json()["error"]["code"]) == (422, "validation_error")
        assert client.get("/v1/webhooks/secret").json() == before
        # An empty body still rotates: the body is optional.
        assert client.post("/v1/webhooks/secret/rotate").status_code == 200


# -- high 3: a header that fails after the task was made ------------------------------------


@pytest.mark.parametrize("prefer", ["wait=²", "wait=٣", "wait=1²", "wait=" + "9" * 5000])
def test_a_malformed_prefer_is_ignored_and_charged_once(live: Live, prefer: str) -> None:
    with live.client() as client:
        # Latin-1 on the wire where it can be: how "²" reaches the server as one character.
        raw = prefer.encode("latin-1") if prefer.isascii() or "²" in prefer else prefer.encode()
        reply = client.post("/v1/face-swap", json=swap_body(), headers={"Prefer": raw})
        assert reply.status_code == 202, reply.text
        assert "Preference-Applied" not in reply.headers
        assert len(client.get("/v1/tasks").json()["data"]) == 1


# -- medium 7: cursor, signature ---------------------------------------------------------


def test_a_cursor_that_decodes_to_deep_json_is_a_422(live: Live) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode().rstrip("=")
    with live.client() as client:
        for bad in (cursor, "x" * 5000, "AAAA", base64.urlsafe_b64encode(b'[1, ["a"]]').decode()):
            reply = client.get("/v1/tasks", params={"cursor": bad})
            assert (reply.status_code, reply.json()["error"]["code"]) == (422, "validation_error")


def test_a_non_ascii_link_signature_is_refused(live: Live) -> None:
    with httpx.Client(base_url=live.url) as client:
        reply = client.get("/files/results/x.png", params={"expires": "9999999999", "sig": "é"})
        assert (reply.status_code, reply.json()["error"]["code"]) == (403, "link_expired")
        reply = client.get("/files/results/x.png", params={"expires": "²", "sig": "a"})
        assert (reply.status_code, reply.json()["error"]["code"]) == (403, "link_expired")


# -- the HTTP layer: medium 5, 7, low 9, suspected ------------------------------------------


REQUEST = b"POST /v1/face-swap HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (REQUEST + b"Content-Length: -1\r\n\r\n", 400, "bad_request"),
        (REQUEST + b"Content-Length: abc\r\n\r\n", 400, "bad_request"),
        (REQUEST + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400, "bad_request"),
        (REQUEST + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, "bad_request"),
        (REQUEST + b"Content-Length: 2, 2\r\n\r\n{}", 400, "bad_request"),
        (REQUEST + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411, "length_required"),
        (REQUEST + b"Content-Length: 99999999999\r\n\r\n", 413, "input_too_large"),
        (b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed"),
        (b"BREW /v1/tasks HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed"),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
            431,
            "headers_too_large",
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000, 431, "headers_too_large"),
        (b"\x16\x03\x01\x02\x00 not http\r\n\r\n", 400, "bad_request"),
    ],
    ids=[
        "length-negative",
        "length-abc",
        "length-repeated",
        "length-conflicting",
        "length-list",
        "chunked",
        "length-huge",
        "trace",
        "unknown-method",
        "header-70k",
        "header-70k-unfinished",
        "tls-on-http",
    ],
)
def test_bad_http_is_refused_in_the_json_envelope(
    live: Live, data: bytes, status: int, code: str
) -> None:
    started = time.monotonic()
    reply = raw_exchange(live, data)
    assert status_and_error(reply) == (status, code), reply[:300]
    assert b"Connection: close" in reply.split(b"\r\n\r\n")[0]
    assert time.monotonic() - started < 3  # answered, not left waiting for the client


def test_slow_headers_get_408_and_idle_connections_are_closed(live: Live) -> None:
    started = time.monotonic()
    reply = raw_exchange(live, b"GET /v1/tasks HTTP/1.1\r\nHost: x\r\n")
    assert status_and_error(reply) == (408, "request_timeout")
    reply = raw_exchange(live, REQUEST + b"Content-Length: 10\r\n\r\n{")
    assert status_and_error(reply) == (408, "request_timeout")
    assert raw_exchange(live, b"") == b""  # an idle connection is closed, not held
    assert time.monotonic() - started < 4.5


def test_keep_alive_and_the_server_lives_on(live: Live) -> None:
    with live.client() as client:
        for _ in range(3):
            assert client.get("/v1/account").status_code == 200
        head = client.head("/v1/account")  # answered without a body, framing kept
        assert head.content == b"" and int(head.headers["content-length"]) > 0
        assert client.get("/v1/account").status_code == 200


@pytest.mark.parametrize(
    "target",
    [{"base64": "not base64!"}, {"base64": b64(b"GIF89a not an image we take")}],
    ids=["bad-base64", "unsupported-media"],
)
def test_a_refused_second_input_takes_the_first_one_with_it(
    live: Live, target: dict[str, str]
) -> None:
    body = {"source": {"base64": b64(tiny_image())}, "target": target}
    with live.client() as client:
        reply = client.post("/v1/face-swap", json=body)
        assert reply.status_code in (400, 415), reply.text
        assert_nothing_left(live, client)


def test_a_response_http_cannot_carry_is_a_500_not_a_dead_connection(tmp_path: Path) -> None:
    """The handler's headers go through h11's checks; one it refuses (a line break in a
    value) becomes a 500 in the envelope instead of a connection closed without a word."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {"X-Bad": "a\r\nInjected: 1"}, "body": "{}"}

    blobs = FileBlobStore(tmp_path, "http://127.0.0.1", b"k" * 32)
    server = make_server("127.0.0.1", 0, handler, blobs, 1000)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_address[1]}") as client:
            reply = client.get("/anything")
            assert (reply.status_code, reply.json()["error"]["code"]) == (500, "internal_error")
            assert "injected" not in reply.headers
    finally:
        server.shutdown()
        server.server_close()


def test_over_the_connection_cap_is_a_503_not_a_hang(settings: Settings) -> None:
    limits = HttpLimits(max_connections=2, idle_timeout_s=5.0)
    with live_server(settings, FakeEngine(), limits=limits) as live:
        held = [socket.create_connection(("127.0.0.1", live.port)) for _ in range(2)]
        try:
            time.sleep(0.2)  # both accepted and waiting for a request
            reply = raw_exchange(live, b"GET /v1/tasks HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status_and_error(reply) == (503, "server_busy")
            assert b"Retry-After: 1" in reply
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.2)
        with live.client() as client:  # slots come back when connections close
            assert client.get("/v1/account").status_code == 200
