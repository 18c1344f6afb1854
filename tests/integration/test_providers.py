"""External providers as backends, on both orchestrators (the local worker pool behind the
real HTTP server, and the real ASL under moto behind the same server): fakes of each kind
on loopback (tests/support/fake_providers.py), callbacks to faceport's callback route,
polling, fallback, cancel, labels and charges."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from faceport.provenance import TRAINED_ALGORITHMIC_MEDIA, read_digital_source_type
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
            task: dict[str, Any] = client.get(f"/v1/tasks/{task_id}").json()
        return task

    def wait(self, task_id: str, timeout_s: float = 20) -> dict[str, Any]:
        return wait_until(
            lambda: (t := self.get(task_id))["status"] in ("succeeded", "failed", "canceled") and t,
            timeout_s,
            f"task {task_id} to end",
        )

    def account(self) -> dict[str, Any]:
        with self.client() as client:
            account: dict[str, Any] = client.get("/v1/account").json()
        return account

    def settled(self) -> dict[str, Any]:
        return wait_until(
            lambda: (a := self.account())["reserved"] == 0 and a, 10, "charges settled"
        )

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


@pytest.fixture(params=["local", "aws"])
def world(
    request: pytest.FixtureRequest,
    settings: Settings,
    fake_engine: FakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> WorldMaker:
    @contextmanager
    def make(
        providers: dict[str, FakeProvider], routes: dict[str, list[str]], **extra: Any
    ) -> Iterator[World]:
        port = free_port()
        configured = provider_settings(settings, port, providers, routes, **extra)
        if request.param == "local":
            with live_server(configured, fake_engine, port=port) as live:
                yield World(live.url, live.api_key, live.runtime.services)
        else:
            from tests.support.aws import aws_world_served

            with aws_world_served(monkeypatch, fake_engine, configured, port) as served:
                yield served

    return make


def callback_of(fake: FakeProvider) -> str:
    job = next(iter(fake.jobs.values()))
    assert job.callback is not None
    return job.callback


def test_poll_success_copies_the_result_labels_it_and_charges_once(world: WorldMaker) -> None:
    with fake_provider("apiinone") as fake, world({"aio": fake}, {"face_swap": ["aio"]}) as w:
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
