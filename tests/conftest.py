"""Shared fixtures: settings on a temporary data dir, a local runtime, test images."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.settings import Settings
from tests.support.api_client import Api, new_account
from tests.support.fakes import FakeEngine

if TYPE_CHECKING:
    from tests.e2e.test_serve import Server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", allow_private_urls=True, task_lease_s=2.0)


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def runtime(settings: Settings, fake_engine: FakeEngine) -> Iterator[LocalRuntime]:
    rt = build_local_runtime(settings, engine=fake_engine)
    rt.start()
    yield rt
    rt.stop()


@pytest.fixture
def api_key(runtime: LocalRuntime) -> str:
    """The key of a well-funded account."""
    return new_account(runtime.accounts, runtime.accounts, credits=1_000_000)


@pytest.fixture
def app(runtime: LocalRuntime, api_key: str) -> Api:
    """The API resolver behind the local authorizer, called with `api_key`."""
    return Api(runtime.services, api_key)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `faceport serve` on loopback, shared by every test that takes it."""
    from tests.support.serve_session import served_session as start_live_server

    yield from start_live_server(tmp_path_factory.mktemp("live") / "data")
