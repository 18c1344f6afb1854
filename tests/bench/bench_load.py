"""Load and crash: many submits from many clients against the local server in its own
process (everything real but the engine, `tests.support.serve_fake`), duplicates mixed
in, then SIGKILL under load and a restart.

Counted: submits/s, submit latency p50/p95, connection resets, tasks lost (acknowledged
but gone, or never ending), tasks made twice (one idempotency key, two tasks), and
whether the ledger is exact (nothing held, every succeeded task charged its price once).

`make bench` runs it in full (`python -m tests.bench.bench_load`); tests/e2e/test_load.py
runs a bounded form. Each submit opens its own connection, as a fleet of short-lived
clients would, so the listen backlog is exercised, not only keep-alive.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.tiny import tiny_image

CREDITS = 10_000_000
TERMINAL = {"succeeded", "failed", "canceled"}
_IMAGE = {"base64": base64.b64encode(tiny_image()).decode()}


@dataclass
class Server:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "FACEPORT_RATE_LIMIT_PER_S": "100000",
            "FACEPORT_RATE_LIMIT_BURST": "100000",
            "FACEPORT_MAX_ACTIVE_TASKS_PER_KEY": "100000",
            "FACEPORT_DEV_ACCOUNT_CREDITS": str(CREDITS),
            "FACEPORT_TASK_LEASE_S": "3",
        }
        command = [sys.executable, "-m", "tests.support.serve_fake"]
        command += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        self.process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(self.port, "GET", "/openapi.json")[0] == 200 and self.key_file.exists():
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the server did not come up")

    @property
    def key_file(self) -> Path:
        return self.data_dir / "dev-api-key"

    @property
    def api_key(self) -> str:
        return self.key_file.read_text().strip()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request on a fresh connection; raises OSError on a transport failure."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        data = reply.read()
        return reply.status, json.loads(data) if data else None
    finally:
        conn.close()


@dataclass
class Submits:
    latencies: list[float] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # idempotency key -> task id
    resets: int = 0
    refused: int = 0  # connection refused: the server was down (the kill test)
    errors: list[str] = field(default_factory=list)
    duplicates: int = 0
    duplicate_mismatches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def submit_load(
    port: int,
    api_key: str,
    submits: int,
    clients: int,
    *,
    duplicate_every: int = 5,
    retry_for_s: float = 0.0,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[Submits, float]:
    """`submits` face swaps from `clients` threads; every `duplicate_every`-th repeats the
    previous one (same Idempotency-Key and body). With `retry_for_s`, a submit whose
    connection failed is retried with its key (the kill test)."""
    result = Submits()
    done = [0]

    def client(number: int) -> None:
        previous: tuple[str, bytes] | None = None
        for n in range(number, submits, clients):
            duplicate = (
                previous is not None and n // clients % duplicate_every == duplicate_every - 1
            )
            if duplicate and previous is not None:
                key, body = previous
            else:
                key = f"load-{number}-{n}"
                body = json.dumps(
                    {"source": _IMAGE, "target": _IMAGE, "metadata": {"client": number, "n": n}}
                ).encode()
            task_id = _submit(port, api_key, key, body, result, retry_for_s)
            previous = (key, body)
            with result.lock:
                if task_id is not None and duplicate:
                    result.duplicates += 1
                    result.duplicate_mismatches += result.ids.get(key) != task_id
                elif task_id is not None:
                    result.ids[key] = task_id
                done[0] += 1
                if on_progress is not None:
                    on_progress(done[0])

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result, time.monotonic() - started


def _submit(
    port: int, api_key: str, key: str, body: bytes, result: Submits, retry_for_s: float
) -> str | None:
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    deadline = time.monotonic() + retry_for_s
    while True:
        started = time.perf_counter()
        try:
            status, reply = request(port, "POST", "/v1/face-swap", body, headers)
        except OSError as exc:
            with result.lock:
                if isinstance(exc, ConnectionRefusedError):
                    result.refused += 1
                elif isinstance(exc, ConnectionResetError | BrokenPipeError):
                    result.resets += 1
                else:
                    result.errors.append(repr(exc))
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            return None
        with result.lock:
            result.latencies.append(time.perf_counter() - started)
        if status in (200, 202):
            return str(reply["id"])
        with result.lock:
            result.errors.append(f"{status} {reply}")
        return None


@dataclass
class Outcome:
    acknowledged: int
    listed: int
    lost: int
    made_twice: int
    unfinished: int
    succeeded: int
    balance: int
    reserved: int

    @property
    def ledger_exact(self) -> bool:
        return self.reserved == 0 and self.balance == CREDITS - 4 * self.succeeded


def settle_and_check(
    port: int, api_key: str, ids: dict[str, str], timeout_s: float = 120
) -> Outcome:
    """Wait until no task is queued or running, then compare the tasks and the ledger
    with what the clients were told."""
    auth = {"Authorization": f"Bearer {api_key}"}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = [
            request(port, "GET", f"/v1/tasks?status={s}&limit=1", headers=auth)[1]["data"]
            for s in ("queued", "running")
        ]
        if not any(busy):
            break
        time.sleep(0.2)
    tasks: dict[str, dict[str, Any]] = {}
    cursor = ""
    while True:
        page = request(port, "GET", f"/v1/tasks?limit=100{cursor}", headers=auth)[1]
        tasks.update({t["id"]: t for t in page["data"]})
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    account = request(port, "GET", "/v1/account", headers=auth)[1]
    acknowledged = set(ids.values())
    return Outcome(
        acknowledged=len(acknowledged),
        listed=len(tasks),
        lost=len(acknowledged - set(tasks)),
        made_twice=len(set(tasks) - acknowledged),
        unfinished=sum(t["status"] not in TERMINAL for t in tasks.values()),
        succeeded=sum(t["status"] == "succeeded" for t in tasks.values()),
        balance=account["balance"],
        reserved=account["reserved"],
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_load(data_dir: Path, submits: int, clients: int) -> dict[str, Any]:
    """The load run: submits from many clients at once, then the check."""
    server = Server(data_dir, free_port())
    server.start()
    try:
        result, wall_s = submit_load(server.port, server.api_key, submits, clients)
        outcome = settle_and_check(server.port, server.api_key, result.ids)
    finally:
        server.stop()
    return _report(result, wall_s, outcome)


def run_kill_restart(data_dir: Path, submits: int, clients: int, kills: int) -> dict[str, Any]:
    """Submits under load while the server is SIGKILLed `kills` times and restarted;
    clients retry failed submits with their idempotency key, as a careful client does."""
    server = Server(data_dir, free_port())
    server.start()
    api_key = server.api_key
    marks = {submits * (k + 1) // (kills + 1) for k in range(kills)}
    restarts: list[threading.Thread] = []

    def on_progress(done: int) -> None:
        if done in marks:
            marks.discard(done)
            server.kill()
            thread = threading.Thread(target=server.start)
            thread.start()
            restarts.append(thread)

    try:
        result, wall_s = submit_load(
            server.port, api_key, submits, clients, retry_for_s=60, on_progress=on_progress
        )
        for thread in restarts:
            thread.join()
        outcome = settle_and_check(server.port, api_key, result.ids)
    finally:
        server.stop()
    report = _report(result, wall_s, outcome)
    # Connections open when the process dies are cut; the clients retry those.
    report["cut_by_kill"] = report.pop("resets")
    return {**report, "kills": kills}


def _report(result: Submits, wall_s: float, outcome: Outcome) -> dict[str, Any]:
    latencies = sorted(result.latencies) or [0.0]
    return {
        "submits": len(result.latencies),
        "submits_per_s": round(len(result.latencies) / wall_s, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] * 1000, 1),
        "resets": result.resets,
        "refused_while_down": result.refused,
        "errors": result.errors[:5],
        "error_count": len(result.errors),
        "duplicates": result.duplicates,
        "duplicate_mismatches": result.duplicate_mismatches,
        "acknowledged": outcome.acknowledged,
        "lost": outcome.lost,
        "made_twice": outcome.made_twice,
        "unfinished": outcome.unfinished,
        "ledger_exact": outcome.ledger_exact,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submits", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--kills", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        load = run_load(Path(tmp) / "load", args.submits, args.clients)
        print(f"load ({args.submits} submits, {args.clients} clients):", json.dumps(load))
        crash = run_kill_restart(Path(tmp) / "kill", args.submits // 2, args.clients, args.kills)
        print(f"kill and restart ({args.kills} SIGKILLs):", json.dumps(crash))


if __name__ == "__main__":
    main()
