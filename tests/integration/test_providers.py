"""External providers as backends, on both orchestrators (the local worker pool behind the
real HTTP server, and the real ASL under moto behind the same server): fakes of each kind
on loopback (tests/support/fake_providers.py), callbacks to faceport's callback route,
polling, fallback, cancel, labels and charges."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from faceport.provenance import (
    TRAINED_ALGORITHMIC_MEDIA,
    mp4_digital_source_type,
    read_digital_source_type,
)
from faceport.service import Services
from faceport.settings import Settings
from tests.conftest import b64
from tests.support.fake_providers import Behaviour, FakeProvider, download, fake_provider
from tests.support.fakes import FakeEngine
from tests.support.live_server import free_port, live_server
from tests.support.tiny import tiny_image
from tests.support.webhook_receiver import wait_until

IMG = tiny_image("PNG")
TARGET = tiny_image("PNG", (40, 30))


@dataclass
class World:
    """One shape with providers configured, as a client of a funded account sees it."""

    url: str
    api_key: str
    services: Services

    def client(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key or self.api_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def submit(self, path: str = "/v1/face-swap", **body: Any) -> dict[str, Any]:
        body = {"source": {"base64": b64(IMG)}, "target": {"base64": b64(TARGET)}, **body}
        with self.client() as client:
            reply = client.post(path, json=body)
        assert reply.status_code == 202, reply.text
        task: dict[str, Any] = reply.json()
        return task

    def get(self, task_id: str) -> dict[str, Any]:
        with self.client() as client:
            reply = client.get(f"/v1/tasks/{task_id}")
        assert reply.status_code == 200, reply.text
        task: dict[str, Any] = reply.json()
        return task

    def wait(self, task_id: str, timeout_s: float = 20) -> dict[str, Any]:
        """The task as the client sees it once it ended (read from the store meanwhile:
        the key's rate limit is the API's)."""
        ended = self.services.tasks.wait_until_done(task_id, timeout_s)
        assert ended is not None and ended.status.is_terminal, f"task {task_id} still going"
        return self.get(task_id)

    def account(self) -> dict[str, Any]:
        with self.client() as client:
            account: dict[str, Any] = client.get("/v1/account").json()
        return account

    def settled(self) -> dict[str, Any]:
        def account_once_settled() -> dict[str, Any] | None:
            time.sleep(0.1)  # under the key's rate limit
            account = self.account()
            return account if account["reserved"] == 0 else None

        settled: dict[str, Any] = wait_until(account_once_settled, 10, "charges settled")
        return settled

    def stored(self, task_id: str) -> Any:
        return self.services.tasks.get(task_id)


WorldMaker = Callable[..., AbstractContextManager[World]]


def provider_settings(
    base: Settings,
    port: int,
    providers: dict[str, FakeProvider],
    routes: dict[str, list[str]],
    **extra: Any,
) -> Settings:
    configs = {name: fake.config(**extra.get(name, {})) for name, fake in providers.items()}
    return base.model_copy(
        update={
            "public_url": f"http://127.0.0.1:{port}",
            "providers": Settings.model_validate({"providers": configs}).providers,
            "routes": routes,
        }
    )


@contextmanager
def open_world(
    name: str,
    settings: Settings,
    engine: FakeEngine,
    monkeypatch: pytest.MonkeyPatch,
    providers: dict[str, FakeProvider],
    routes: dict[str, list[str]],
    **extra: Any,
) -> Iterator[World]:
    """The shape `name` with `providers` configured and `routes`, behind the HTTP server."""
    port = free_port()
    configured = provider_settings(settings, port, providers, routes, **extra)
    if name == "local":
        with live_server(configured, engine, port=port) as live:
            yield World(live.url, live.api_key, live.runtime.services)
    else:
        from tests.support.aws import aws_world_served

        with aws_world_served(monkeypatch, engine, configured, port) as served:
            yield served


@pytest.fixture(params=["local", "aws"])
def world(
    request: pytest.FixtureRequest,
    settings: Settings,
    fake_engine: FakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> WorldMaker:
    return partial(open_world, request.param, settings, fake_engine, monkeypatch)


@pytest.fixture
def local_world(
    settings: Settings, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> WorldMaker:
    return partial(open_world, "local", settings, fake_engine, monkeypatch)


def callback_of(fake: FakeProvider) -> str:
    job = next(iter(fake.jobs.values()))
    assert job.callback is not None
    return job.callback


def test_poll_success_copies_the_result_labels_it_and_charges_once(world: WorldMaker) -> None:
    with (
        fake_provider("apiinone") as fake,
        world({"aio": fake}, {"face_swap": ["aio"]}, aio={"poll_interval_s": 0.5}) as w,
    ):
        task = w.submit()
        done = w.wait(task["id"])
        assert done["status"] == "succeeded", done
        remote = next(iter(fake.jobs))
        assert done["backend"] == {"name": "aio", "task_id": remote}
        link = done["result"]["url"]
        assert fake.url not in link  # faceport's own link (local /files/ or S3)
        result = download(link)
        assert read_digital_source_type(result) == TRAINED_ALGORITHMIC_MEDIA
        assert read_digital_source_type(fake.jobs[remote].result or b"") is None
        assert fake.submits() == 1 and fake.polls() >= 1
        account = w.settled()
        assert (account["balance"], account["reserved"]) == (1_000_000 - done["price"], 0)


def test_callback_success_completes_long_before_the_fallback_poll(world: WorldMaker) -> None:
    # mj-proxy calls back; its fallback poll comes after 30 s, so only the callback can
    # end this task within the wait below.
    with (
        fake_provider("mjproxy") as fake,
        world({"mj": fake}, {"face_swap": ["mj"]}, mj={"poll_interval_s": 30}) as w,
    ):
        done = w.wait(w.submit()["id"], timeout_s=15)
        assert done["status"] == "succeeded", done
        assert done["backend"]["name"] == "mj"
        job = next(iter(fake.jobs.values()))
        assert job.callbacks_sent == 1 and job.state == done["id"]
        assert fake.url not in done["result"]["url"]
        assert (
            read_digital_source_type(download(done["result"]["url"])) == TRAINED_ALGORITHMIC_MEDIA
        )


def test_a_provider_failure_fails_the_task_with_its_code_and_costs_nothing(
    world: WorldMaker,
) -> None:
    failing = Behaviour(fail=True, fail_message="no face detected in the target image")
    with (
        fake_provider("apiinone", failing) as fake,
        world({"aio": fake}, {"face_swap": ["aio", "engine"]}, aio={"poll_interval_s": 0.5}) as w,
    ):
        done = w.wait(w.submit()["id"])
        assert done["status"] == "failed"
        assert done["error"]["code"] == "no_face_in_target"
        assert done["backend"]["name"] == "aio"  # no fallback after the provider started
        account = w.settled()
        assert (account["balance"], account["reserved"]) == (1_000_000, 0)
        fake.behaviour.fail_message = "model crashed"
        other = w.wait(w.submit()["id"])
        assert other["error"]["code"] == "provider_failed"


def test_a_provider_that_never_finishes_times_out_and_costs_nothing(world: WorldMaker) -> None:
    slow = Behaviour(work_s=120)
    with (
        fake_provider("apiinone", slow) as fake,
        world(
            {"aio": fake}, {"face_swap": ["aio"]}, aio={"poll_interval_s": 1, "timeout_s": 2}
        ) as w,
    ):
        done = w.wait(w.submit()["id"])
        assert done["status"] == "failed" and done["error"]["code"] == "provider_timeout"
        assert w.settled()["balance"] == 1_000_000


@pytest.mark.parametrize("status", [503, 429])
def test_a_refusal_at_submit_falls_back_to_the_next_backend(
    world: WorldMaker, fake_engine: FakeEngine, status: int
) -> None:
    with (
        fake_provider("apiinone", Behaviour(submit_status=status)) as refusing,
        world({"aio": refusing}, {"face_swap": ["aio", "engine"]}) as w,
    ):
        done = w.wait(w.submit()["id"])
        assert done["status"] == "succeeded", done
        assert done["backend"] == {"name": "engine", "task_id": None}
        assert refusing.submits() == 1 and not refusing.jobs
        assert w.settled()["balance"] == 1_000_000 - done["price"]


def test_an_unreachable_provider_falls_back_and_refusal_everywhere_fails(
    world: WorldMaker,
) -> None:
    with (
        fake_provider("apiinone") as fake,
        fake_provider("zhiqite", Behaviour(submit_status=500)) as refusing,
    ):
        fake.url = "http://127.0.0.1:9"  # nobody listens there
        with world({"aio": fake, "zq": refusing}, {"face_swap": ["aio", "zq"]}) as w:
            done = w.wait(w.submit()["id"])
            assert done["status"] == "failed" and done["error"]["code"] == "provider_refused"
            assert w.settled()["balance"] == 1_000_000


def test_cancel_during_a_poll_cancels_at_the_provider(world: WorldMaker) -> None:
    with (
        fake_provider("mjproxy", Behaviour(work_s=60)) as fake,
        world({"mj": fake}, {"face_swap": ["mj"]}, mj={"poll_interval_s": 1}) as w,
    ):
        task = w.submit()
        wait_until(lambda: w.stored(task["id"]).at_provider, 10, "the provider's id")
        with w.client() as client:
            assert client.post(f"/v1/tasks/{task['id']}/cancel").status_code == 200
        job = next(iter(fake.jobs.values()))
        assert job.canceled
        time.sleep(1.5)  # a poll would have come by now
        assert w.get(task["id"])["status"] == "canceled"
        assert w.settled()["balance"] == 1_000_000


def test_forged_callbacks_are_refused_and_a_duplicate_is_harmless(world: WorldMaker) -> None:
    with (
        fake_provider("mjproxy", Behaviour(drop_callback=True)) as fake,
        world({"mj": fake}, {"face_swap": ["mj"]}, mj={"poll_interval_s": 30}) as w,
    ):
        task = w.submit()
        wait_until(lambda: fake.jobs, 10, "the provider's job")
        genuine = callback_of(fake)
        query = parse_qs(urlsplit(genuine).query)
        assert query["task"] == [task["id"]]
        forged = [
            genuine.replace(query["token"][0], "x" * len(query["token"][0])),
            genuine.replace(query["token"][0], ""),
            f"{w.url}/v1/provider-callback?task=task_nope&token={query['token'][0]}",
        ]
        for url in forged:
            assert httpx.post(url, json={}).status_code == 404
        assert w.get(task["id"])["status"] == "running"  # nothing moved it on
        time.sleep(0.3)  # the fake's work is done; its callback was dropped
        for _ in range(2):  # the same callback twice
            assert httpx.post(genuine, json={"status": "SUCCESS"}).status_code == 204
        done = w.wait(task["id"], timeout_s=15)
        assert done["status"] == "succeeded"
        assert httpx.post(genuine, json={}).status_code == 204  # after the end: nothing
        account = w.settled()
        assert account["balance"] == 1_000_000 - done["price"]  # charged exactly once
        entries = [e for e in ledger_of(w) if e.ref == task["id"] and e.balance_delta]
        assert len(entries) == 1


def ledger_of(w: World) -> list[Any]:
    account_id = w.stored(next(iter(_task_ids(w)))).account_id
    return list(w.services.ledger.entries(account_id))


def _task_ids(w: World) -> list[str]:
    with w.client() as client:
        return [t["id"] for t in client.get("/v1/tasks").json()["data"]]


def test_a_synchronous_provider_answers_within_the_submit_step(world: WorldMaker) -> None:
    with fake_provider("ailabtools") as fake, world({"ai": fake}, {"face_fusion": ["ai"]}) as w:
        done = w.wait(w.submit("/v1/face-fusion", similarity=0.7)["id"])
        assert done["status"] == "succeeded", done
        assert done["backend"] == {"name": "ai", "task_id": next(iter(fake.jobs))}
        assert fake.polls() == 0
        result = download(done["result"]["url"])
        assert read_digital_source_type(result) == TRAINED_ALGORITHMIC_MEDIA
        fake.behaviour.fail = True
        failed = w.wait(w.submit("/v1/face-fusion", similarity=0.7)["id"])
        assert failed["error"]["code"] == "no_face_in_target"


def test_zhiqite_is_polled_by_its_business_id(local_world: WorldMaker) -> None:
    with (
        fake_provider("zhiqite") as fake,
        local_world({"zq": fake}, {"face_swap": ["zq"]}, zq={"poll_interval_s": 0.3}) as w,
    ):
        done = w.wait(w.submit()["id"])
        assert done["status"] == "succeeded", done
        job = next(iter(fake.jobs.values()))
        assert job.business_id == done["id"] and done["backend"]["task_id"] == done["id"]
        assert ("POST", "/AIGCImgOpenServ/saas/tool/roop/queryTask") in fake.calls
        # Options its API cannot honour are not sent there: refused before it starts.
        other = w.wait(w.submit(output_format="jpg")["id"])
        assert other["status"] == "failed" and other["error"]["code"] == "provider_refused"


def test_a_video_provider_result_is_labelled_as_an_mp4(world: WorldMaker, tmp_path: Path) -> None:
    from tests.support.video import ClipSpec, write_clip

    video = write_clip(tmp_path / "in.mp4", ClipSpec(width=96, height=64, frames=6, audio=False))
    with (
        fake_provider("heygen") as fake,
        world({"hg": fake}, {"video_face_swap": ["hg"]}, hg={"poll_interval_s": 0.3}) as w,
    ):
        body = {"source": {"base64": b64(IMG)}, "video": {"base64": b64(video.read_bytes())}}
        with w.client() as client:
            reply = client.post("/v1/video-face-swap", json=body)
        assert reply.status_code == 202, reply.text
        done = w.wait(reply.json()["id"])
        assert done["status"] == "succeeded", done
        assert done["result"]["content_type"] == "video/mp4"
        result = download(done["result"]["url"])
        assert mp4_digital_source_type(video.read_bytes()) is None
        assert mp4_digital_source_type(result) == TRAINED_ALGORITHMIC_MEDIA
        assert result.startswith(video.read_bytes()[:8])  # the provider's file, plus a box


def test_over_max_concurrency_the_next_backend_takes_the_task(
    local_world: WorldMaker, fake_engine: FakeEngine
) -> None:
    with (
        fake_provider("apiinone", Behaviour(work_s=1.5)) as fake,
        local_world(
            {"aio": fake},
            {"face_swap": ["aio", "engine"]},
            aio={"max_concurrency": 1, "poll_interval_s": 0.3},
        ) as w,
    ):
        first = w.submit()
        wait_until(lambda: w.stored(first["id"]).at_provider, 10, "the provider's id")
        second = w.wait(w.submit()["id"])
        assert second["backend"]["name"] == "engine" and fake_engine.calls == 1
        assert w.wait(first["id"])["backend"]["name"] == "aio"


def test_a_submit_answered_too_slowly_fails_without_a_second_backend(
    local_world: WorldMaker, fake_engine: FakeEngine
) -> None:
    # The request reached the provider, which may have started: no fallback, no charge.
    slow = Behaviour(submit_delay_s=3)
    with (
        fake_provider("apiinone", slow) as fake,
        local_world({"aio": fake}, {"face_swap": ["aio", "engine"]}, aio={"timeout_s": 1}) as w,
    ):
        done = w.wait(w.submit()["id"])
        assert done["status"] == "failed" and done["error"]["code"] == "provider_failed"
        assert fake_engine.calls == 0
        assert w.settled()["balance"] == 1_000_000
