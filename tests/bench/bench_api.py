"""API overhead: latency of a `Prefer: wait` swap over real HTTP, minus the engine's time.

Run with `make bench` (or `python -m tests.bench.bench_api`). Prints medians and p95 in ms.
"""

from __future__ import annotations

import base64
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from faceport.adapters.local.engine import InProcessEngine
from faceport.adapters.local.gateway import local_edge
from faceport.adapters.local.http_server import make_server
from faceport.adapters.local.runtime import build_local_runtime
from faceport.api.app import build_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.settings import Settings
from tests.support.api_client import new_account
from tests.support.images import astronaut_jpeg, grace_hopper_1mp_jpeg

RUNS = 20


class TimedEngine(InProcessEngine):
    """The real engine, remembering how long each call took."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def swap_face(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super().swap_face(*args, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    engine = TimedEngine()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), port=0)
        runtime = build_local_runtime(settings, engine=engine)
        api_key = new_account(runtime.accounts, runtime.accounts, credits=10_000)
        resolve = build_app(runtime.services).resolve
        limiter = runtime.services.rate_limiter
        handler = local_edge(resolve, runtime.accounts, limiter, ROUTE_GROUPS)
        server = make_server("127.0.0.1", 0, handler, runtime.blobs, 64 << 20)
        runtime.start()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        body = {
            "source": {"base64": base64.b64encode(astronaut_jpeg()).decode()},
            "target": {"base64": base64.b64encode(grace_hopper_1mp_jpeg()).decode()},
            "output_format": "jpg",
        }
        latencies: list[float] = []
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
            for run in range(RUNS + 2):
                started = time.perf_counter()
                reply = client.post("/v1/face-swap", json=body, headers={"Prefer": "wait=30"})
                elapsed = time.perf_counter() - started
                assert reply.status_code == 200 and reply.json()["status"] == "succeeded", (
                    reply.text
                )
                if run >= 2:  # the first calls load the models
                    latencies.append(elapsed)
        server.shutdown()
        server.server_close()
        runtime.stop()
    engine_s = engine.seconds[2:]
    overhead = [total - inner for total, inner in zip(latencies, engine_s, strict=True)]
    print(f"API ({RUNS} runs, 1 MP target, Prefer: wait, HTTP on loopback)")
    for name, values in (
        ("end to end", latencies),
        ("engine", engine_s),
        ("API overhead", overhead),
    ):
        print(
            f"  {name:<13} p50 {statistics.median(values) * 1000:7.1f} ms"
            f"   p95 {percentile(values, 0.95) * 1000:7.1f} ms"
        )


if __name__ == "__main__":
    main()
