"""What speaking a seed dialect costs over the native API, over real HTTP on loopback.

1. The same swap, end to end with the real engine: native `POST /v1/face-swap` with
   `Prefer: wait=30` against Zhiqite's roop submit, which holds the request until the
   swap ends (the same inputs: base64 / data: URIs of the same two photos), interleaved.
2. The submit request alone (FakeEngine, answers as soon as the task is stored): native
   against API in One and MJ-proxy, interleaved.

Run with `make bench` (or `python -m tests.bench.bench_dialects`). Prints p50 in ms.
"""

from __future__ import annotations

import base64
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from faceport.adapters.local.engine import InProcessEngine
from faceport.adapters.local.gateway import with_authorizer
from faceport.adapters.local.http_server import make_server
from faceport.adapters.local.runtime import build_local_runtime
from faceport.api.app import build_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.ports import Engine
from faceport.settings import Settings
from tests.support.api_client import new_account
from tests.support.fakes import FakeEngine
from tests.support.images import astronaut_jpeg, grace_hopper_jpeg

SWAPS = 15
SUBMITS = 150
SOURCE = base64.b64encode(astronaut_jpeg()).decode()
TARGET = base64.b64encode(grace_hopper_jpeg()).decode()


@contextmanager
def served(engine: Engine) -> Iterator[tuple[httpx.Client, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), port=0, rate_limit_per_s=10_000, rate_limit_burst=10_000
        )
        runtime = build_local_runtime(settings, engine=engine)
        key = new_account(runtime.accounts, runtime.accounts, credits=10_000_000)
        handler = with_authorizer(
            build_app(runtime.services).resolve, runtime.accounts, ROUTE_GROUPS
        )
        server = make_server("127.0.0.1", 0, handler, runtime.blobs, 64 << 20)
        runtime.start()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                yield client, key
        finally:
            server.shutdown()
            server.server_close()
            runtime.stop()


def timed(client: httpx.Client, path: str, body: object, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    reply = client.post(path, json=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert reply.status_code in (200, 202), reply.text
    return elapsed


def same_swap() -> dict[str, list[float]]:
    native_body = {"source": {"base64": SOURCE}, "target": {"base64": TARGET}}
    times: dict[str, list[float]] = {"native (Prefer: wait)": [], "Zhiqite roop": []}
    with served(InProcessEngine()) as (client, key):
        key_id, _, secret = key.rpartition("_")
        key_pair = {"X-Request-req-accessKeyId": key_id, "X-Request-req-accessKeySecret": secret}
        bearer = {"Authorization": f"Bearer {key}", "Prefer": "wait=30"}
        for run in range(SWAPS + 2):
            roop = {
                "sourceUrl": f"data:image/jpeg;base64,{SOURCE}",
                "targetUrl": f"data:image/jpeg;base64,{TARGET}",
                "businessTaskId": f"bench-{run}",
            }
            native = timed(client, "/v1/face-swap", native_body, bearer)
            dialect = timed(client, "/AIGCImgOpenServ/saas/tool/roop", roop, key_pair)
            if run >= 2:  # the first swaps load the models
                times["native (Prefer: wait)"].append(native)
                times["Zhiqite roop"].append(dialect)
    return times


def submits() -> dict[str, list[float]]:
    native_body = {"source": {"base64": SOURCE}, "target": {"base64": TARGET}}
    apiinone = {
        "model": "face-swap",
        "image": f"data:image/jpeg;base64,{TARGET}",
        "face_image": f"data:image/jpeg;base64,{SOURCE}",
    }
    mj = {"sourceBase64": SOURCE, "targetBase64": TARGET}
    times: dict[str, list[float]] = {"native": [], "API in One": [], "MJ-proxy": []}
    with served(FakeEngine()) as (client, key):
        headers = {"Authorization": f"Bearer {key}"}
        routes = {
            "native": ("/v1/face-swap", native_body),
            "API in One": ("/api/v1/images/tools/face-swap", apiinone),
            "MJ-proxy": ("/mj/insight-face/swap", mj),
        }
        for run in range(SUBMITS + 5):
            for name, (path, body) in routes.items():
                elapsed = timed(client, path, body, headers)
                if run >= 5:
                    times[name].append(elapsed)
    return times


def report(title: str, times: dict[str, list[float]]) -> None:
    print(title)
    base = statistics.median(next(iter(times.values())))
    for name, values in times.items():
        p50 = statistics.median(values)
        print(f"  {name:<22} p50 {p50 * 1000:7.1f} ms   over native {(p50 - base) * 1000:+6.1f} ms")


def main() -> None:
    report(f"Same swap, real engine, {SWAPS} runs each (held until done)", same_swap())
    report(f"Submit request only, FakeEngine, {SUBMITS} runs each", submits())


if __name__ == "__main__":
    main()
