"""The local shape on a loopback port, in this process: the real HTTP server, SQLite, the
worker pool and webhook senders, with an engine of the test's choosing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import httpx

from faceport.adapters.local.gateway import local_edge
from faceport.adapters.local.http_server import HttpLimits, make_server
from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.api.app import build_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.ports import Engine, Fetcher
from faceport.settings import Settings
from tests.support.api_client import new_account


@dataclass
class Live:
    url: str
    port: int
    runtime: LocalRuntime
    api_key: str

    def client(self) -> httpx.Client:
        """A client that calls with this server's funded key."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def live_server(
    settings: Settings,
    engine: Engine,
    *,
    limits: HttpLimits | None = None,
    max_body_bytes: int = 4 << 20,
    fetcher: Fetcher | None = None,
) -> Iterator[Live]:
    """A started runtime behind the real HTTP server on 127.0.0.1; stopped on exit. With
    `fetcher`, the API checks URLs with that one (the workflow keeps the runtime's)."""
    runtime = build_local_runtime(settings, engine=engine)
    services = runtime.services if fetcher is None else replace(runtime.services, fetcher=fetcher)
    resolve = build_app(services).resolve
    handler = local_edge(resolve, runtime.accounts, services.rate_limiter, ROUTE_GROUPS)
    server = make_server("127.0.0.1", 0, handler, runtime.blobs, max_body_bytes, limits=limits)
    runtime.start()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    port = int(server.server_address[1])
    try:
        key = new_account(runtime.accounts, runtime.accounts, credits=1_000_000)
        yield Live(f"http://127.0.0.1:{port}", port, runtime, key)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        runtime.stop()
