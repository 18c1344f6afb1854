"""`make smoke URL=... KEY=...`: checks any faceport base URL (a local `faceport serve`, an
API Gateway stage) and prints a table of PASS, FAIL or SKIP, exiting 1 on any FAIL.

- account: `GET /v1/account` with the key;
- readme swap: the README's swap (astronaut onto Grace Hopper, `Prefer: wait`), polled
  to the end, and its result link downloaded;
- dialect: a status query on the first dialect route the API's OpenAPI document lists
  (an unknown id: a 4xx in JSON, no 5xx); SKIP when the deployment has none;
- webhook: a swap with `notify_url` to a receiver this command starts on loopback, its
  signature verified with the account's secret; SKIP when the API is not on this machine
  (a deployment cannot reach a loopback receiver).
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from tests.support.images import astronaut_jpeg, grace_hopper_jpeg


class Skip(Exception):
    """The check cannot run against this deployment (the reason is its message)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _swap(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {"source": {"base64": _b64(astronaut_jpeg())},
            "target": {"base64": _b64(grace_hopper_jpeg())}, **extra}  # fmt: skip
    reply = client.post("/v1/face-swap", json=body, headers={"Prefer": "wait=25"})
    assert reply.status_code in (200, 202), f"{reply.status_code} {reply.text[:200]}"
    task: dict[str, Any] = reply.json()
    deadline = time.monotonic() + 120
    while task["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"task {task['id']} still {task['status']}"
        time.sleep(1)
        task = client.get(f"/v1/tasks/{task['id']}").json()
    return task


def check_account(client: httpx.Client) -> str:
    reply = client.get("/v1/account")
    assert reply.status_code == 200, f"{reply.status_code} {reply.text[:200]}"
    return f"{reply.json()['available']} credits available"


def check_readme_swap(client: httpx.Client) -> str:
    task = _swap(client, output_format="jpg")
    assert task["status"] == "succeeded", f"{task['status']}: {task.get('error')}"
    result = httpx.get(task["result"]["url"], timeout=30)
    assert result.status_code == 200 and result.content[:2] == b"\xff\xd8", result.status_code
    return f"{task['id']}, {len(result.content)} bytes of JPEG"


def check_dialect(client: httpx.Client) -> str:
    paths = client.get("/openapi.json").json()["paths"]
    dialect = sorted(p for p in paths if not p.startswith("/v1/") and "{" in p)
    if not dialect:
        raise Skip("the deployment has no dialect routes yet")
    path = dialect[0]
    method = next(m for m in ("get", "post") if m in paths[path])
    url = path.split("{")[0] + "task_000000000000ffffffffffffffff"
    reply = client.request(method.upper(), url, json={} if method == "post" else None)
    assert reply.status_code < 500, f"{method.upper()} {url}: {reply.status_code}"
    reply.json()  # the dialect's own envelope, JSON
    return f"{method.upper()} {url} -> {reply.status_code}"


def check_webhook(client: httpx.Client, base_url: str) -> str:
    host = urlsplit(base_url).hostname or ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost"
    if not local:
        raise Skip("the deployment cannot reach a receiver on this machine")
    received: list[tuple[dict[str, str], bytes]] = []
    arrived = threading.Event()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
        task = _swap(client, notify_url=hook)
        assert arrived.wait(60), "no webhook within 60 s"
    finally:
        server.shutdown()
        server.server_close()
    headers, body = received[0]
    secret = client.get("/v1/webhooks/secret").json()["current"]
    event = Webhook(secret).verify(body, headers)
    assert event["data"]["id"] == task["id"], event
    return f"{event['type']} for {task['id']}, signature verified"


def run(base_url: str, key: str) -> list[tuple[str, str, str]]:
    """(check, PASS|FAIL|SKIP, detail) for every check."""
    headers = {"Authorization": f"Bearer {key}"}
    client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=60)
    checks: list[tuple[str, Callable[[], str]]] = [
        ("account", lambda: check_account(client)),
        ("readme swap", lambda: check_readme_swap(client)),
        ("dialect request", lambda: check_dialect(client)),
        ("webhook round trip", lambda: check_webhook(client, base_url)),
    ]
    rows = []
    for name, check in checks:
        try:
            rows.append((name, "PASS", check()))
        except Skip as skip:
            rows.append((name, "SKIP", str(skip)))
        except Exception as exc:  # every failure is a row, never a traceback
            rows.append((name, "FAIL", f"{type(exc).__name__}: {exc}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the API's base URL")
    parser.add_argument("--key", required=True, help="an API key (fpk_...)")
    args = parser.parse_args(argv)
    rows = run(args.url, args.key)
    width = max(len(name) for name, _, _ in rows)
    for name, verdict, detail in rows:
        print(f"{name:{width}}  {verdict:4}  {detail}")
    failed = [name for name, verdict, _ in rows if verdict == "FAIL"]
    print(json.dumps({"failed": failed}) if failed else "smoke: no failure")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
