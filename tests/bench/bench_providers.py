"""External providers: the latency faceport adds over a provider's own answer time, in
callback and poll modes on both orchestrators, and the Step Functions state transitions a
task costs per minute while it waits at a provider (docs/ARCHITECTURE.md, "External
providers").

A fake provider (tests/support/fake_providers.py) takes `WORK_S` to finish; a client
submits, and the time until the task has ended (result fetched, labelled, stored,
finalized) minus `WORK_S` is the overhead. The AWS shape is the real ASL under moto
(Lambdas in-process, so its step latency is not a deployed Lambda's). Transitions are the
StateEntered events of the execution history over the minutes the task waited.

Run with `make bench` (or `python -m tests.bench.bench_providers`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.test_providers import World, open_world
from tests.support.aws import REGION
from tests.support.fake_providers import Behaviour, FakeProvider, fake_provider
from tests.support.fakes import FakeEngine

WORK_S = 1.0
RUNS = 5


@contextmanager
def shape(
    name: str, providers: dict[str, FakeProvider], routes: dict[str, list[str]], **extra: Any
) -> Iterator[World]:
    from faceport.settings import Settings

    patch = pytest.MonkeyPatch()
    with tempfile.TemporaryDirectory() as folder:
        base = Settings(data_dir=Path(folder), allow_private_urls=True, rate_limit_per_s=1000.0)
        try:
            with open_world(name, base, FakeEngine(), patch, providers, routes, **extra) as world:
                yield world
        finally:
            patch.undo()


def overheads(world: World, runs: int) -> list[float]:
    found = []
    for _ in range(runs):
        started = time.monotonic()
        task = world.submit()
        ended = world.services.tasks.wait_until_done(task["id"], 60)
        assert ended is not None and ended.status.value == "succeeded", ended
        found.append(time.monotonic() - started - WORK_S)
    return found


def transitions_per_minute(world: World, task_id: str) -> tuple[int, float]:
    """StateEntered events while the task waited at its provider, and that per minute."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = world.services.orchestrator.execution_arn(task_id)  # type: ignore[attr-defined]
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e for e in events if "stateEnteredEventDetails" in e]
    names = [e["stateEnteredEventDetails"]["name"] for e in entered]
    first = names.index("SubmitToProvider") + 1
    last = len(names) - 1 - names[::-1].index("PollProvider")
    waited_s = (entered[last]["timestamp"] - entered[first]["timestamp"]).total_seconds()
    count = last - first
    return count, count / (waited_s / 60)


def report_latency(name: str) -> None:
    modes = {
        "callback (mj-proxy notifyHook)": ("mjproxy", {"poll_interval_s": 30}),
        "poll every 2 s (API in One, default)": ("apiinone", {}),
        "poll every 0.5 s": ("apiinone", {"poll_interval_s": 0.5}),
    }
    for label, (kind, extra) in modes.items():
        with (
            fake_provider(kind, Behaviour(work_s=WORK_S)) as fake,
            shape(name, {"p": fake}, {"face_swap": ["p"]}, p=extra) as world,
        ):
            found = overheads(world, RUNS)
        print(
            f"{name:5} {label:38} overhead over the provider's {WORK_S:.0f} s: "
            f"median {statistics.median(found):.2f} s, min {min(found):.2f}, max {max(found):.2f}"
        )


def report_transitions() -> None:
    cases = {
        "poll every 2 s": ("apiinone", Behaviour(work_s=20), {"poll_interval_s": 2}),
        "callback lost, fallback poll every 5 s": (
            "mjproxy",
            Behaviour(work_s=20, drop_callback=True),
            {"poll_interval_s": 5},
        ),
    }
    for label, (kind, behaviour, extra) in cases.items():
        with (
            fake_provider(kind, behaviour) as fake,
            shape("aws", {"p": fake}, {"face_swap": ["p"]}, p=extra) as world,
        ):
            task = world.submit()
            world.services.tasks.wait_until_done(task["id"], 90)
            count, per_minute = transitions_per_minute(world, task["id"])
        print(f"aws   {label:38} {count} transitions waiting, {per_minute:.1f} per minute")


def main() -> None:
    print("bench_providers (shared 2-core machine; moto in-process for AWS)")
    for name in ("local", "aws"):
        report_latency(name)
    report_transitions()


if __name__ == "__main__":
    main()
