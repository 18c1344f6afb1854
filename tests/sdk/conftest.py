"""The SDK against the session's real server: a client per test on the dev account, and
funded accounts made through `faceport admin` for tests that need their own."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from faceport_client import Client

from tests.e2e.test_serve import Server


def new_key(server: Server, credits: int) -> str:
    """A fresh account's key, made as an operator would (`faceport admin`)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "faceport.cli",
            "admin",
            "create-account",
            "sdk-test",
            "--credits",
            str(credits),
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    key: str = json.loads(out)["api_key"]
    return key


@pytest.fixture
def client(live_server: Server) -> Iterator[Client]:
    with Client(base_url=live_server.url, api_key=new_key(live_server, 10_000)) as sdk:
        yield sdk
