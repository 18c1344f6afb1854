"""A real webhook consumer on loopback: answers from a script, keeps every request, and
verifies signatures with the `standardwebhooks` library, as a consumer would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

Answer = int | Literal["hang"]


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verify(self, secret: str) -> Any:
        """The parsed event if `secret` signed it; raises WebhookVerificationError if not."""
        return Webhook(secret).verify(self.body, self.headers)

    def signed_by(self, secret: str) -> bool:
        try:
            self.verify(secret)
        except WebhookVerificationError:
            return False
        return True


@dataclass
class Receiver:
    url: str
    port: int
    script: list[Answer] = field(default_factory=list)  # answers in order, then 200
    received: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> Answer:
        with self._lock:
            return self.script.pop(0) if self.script else 200

    def wait_for(self, count: int, timeout_s: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.received)} of {count} webhook requests")
            time.sleep(0.02)
        return list(self.received)


@contextmanager
def webhook_receiver(script: list[Answer] | None = None, port: int = 0) -> Iterator[Receiver]:
    """Serve on 127.0.0.1 (`port` 0: any free one); yields the receiver, its URL ends in
    /hook. "hang" in the script holds the request without answering until the end."""
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.received.append(Received(headers, body, time.time()))
            answer = receiver.answer()
            if answer == "hang":
                receiver.released.wait(30)
                return
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    bound = int(server.server_address[1])
    receiver = Receiver(url=f"http://127.0.0.1:{bound}/hook", port=bound, script=script or [])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()


def wait_until(check: Callable[[], Any], timeout_s: float = 20, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
