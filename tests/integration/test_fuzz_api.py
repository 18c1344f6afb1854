"""Property-based fuzzing of the whole API from its own /openapi.json (schemathesis) against
the real HTTP server on loopback: whatever is generated, valid by the schema or breaking
it on purpose, no answer is a 5xx.

Bounded: `FUZZ_EXAMPLES` (default 100) examples per operation and generation mode, about
30 s in all on a loaded core. URL checks answer "does not resolve" for every host, so
nothing generated reaches the network.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from faceport.fetch import FetchPolicy, HttpFetcher
from faceport.settings import Settings
from tests.support.fakes import FakeEngine
from tests.support.live_server import Live, live_server

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
CASES: list[int] = []


def no_dns(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
    raise socket.gaierror(socket.EAI_NONAME, f"{host}: no DNS in the fuzz test")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("fuzz")
    fuzz_settings = Settings(
        data_dir=data, rate_limit_per_s=100_000, rate_limit_burst=100_000, max_wait_s=2
    )
    fetcher = HttpFetcher(FetchPolicy(), resolve=no_dns)
    with live_server(fuzz_settings, FakeEngine(), fetcher=fetcher) as running:
        yield running
    print(f"\nfuzz: {len(CASES)} cases, 0 server errors")


def test_no_request_is_a_server_error(live: Live) -> None:
    """Every operation in the schema, `EXAMPLES` generated requests each (schemathesis'
    strategies driven by hypothesis here: its pytest plugin does not run on pytest 9)."""
    api = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    headers = {"Authorization": f"Bearer {live.api_key}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 10

    # Valid requests by the schema, and requests that break it on purpose.
    for operation, mode in itertools.product(operations, list(schemathesis.GenerationMode)):

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy(mode))
        def no_server_error(case: Any) -> None:
            CASES.append(1)
            case.call_and_validate(
                base_url=live.url, headers=headers, checks=[schemathesis.checks.not_a_server_error]
            )

        no_server_error()
