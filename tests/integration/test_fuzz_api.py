"""Property-based fuzzing of the whole API from its own /openapi.json (schemathesis) against
the real HTTP server on loopback: whatever is generated, valid by the schema or breaking
it on purpose, no answer is a 5xx.

Bounded: `FUZZ_EXAMPLES` (default 75) examples per operation and generation mode, and six
times that of raw bodies; about 30 s in all on a loaded core. URL checks answer "does
not resolve" for every host, so nothing generated reaches the network.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faceport.fetch import FetchPolicy, HttpFetcher
from faceport.settings import Settings
from tests.support.fakes import FakeEngine
from tests.support.live_server import Live, live_server

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "75"))
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


# -- raw bodies: what no schema-driven generator sends ---------------------------------

IMAGE = {"base64": "aGVsbG8="}
# JSON values with what JSON text can carry but the stores cannot: NaN and infinities,
# huge integers, lone surrogates (json.dumps escapes them as \ud800), deep nesting,
# numbers of thousands of digits.
HOSTILE_SCALARS = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.text(st.characters(codec=None), max_size=20)
    | st.none()
    | st.booleans()
)
HOSTILE_VALUES = st.recursive(
    HOSTILE_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=20,
)


def _nested(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _dump(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


HOSTILE_BODIES = st.one_of(
    HOSTILE_VALUES.map(lambda m: _dump({"source": IMAGE, "target": IMAGE, "metadata": m})),
    st.integers(1, 400).map(
        lambda d: _dump({"source": IMAGE, "target": IMAGE, "metadata": _nested(d)})
    ),
    st.integers(1, 50_000).map(lambda d: b"[" * d + b"]" * d),
    st.integers(300, 6000).map(lambda n: b'{"metadata": {"n": ' + b"9" * n + b"}}"),
    HOSTILE_VALUES.map(_dump),
    st.binary(max_size=200),
)
POST_ROUTES = [
    "/v1/face-swap",
    "/v1/face-fusion",
    "/v1/video-face-swap",
    "/v1/face-detect",
    "/v1/webhooks/secret/rotate",
]


def test_no_raw_body_is_a_server_error(live: Live) -> None:
    """Bodies no schema-driven generator makes, on every route that takes one: each is
    answered with a 2xx or a 4xx in the envelope."""
    with live.client() as client:

        @settings(max_examples=EXAMPLES * 6, deadline=None, derandomize=True, database=None)
        @given(path=st.sampled_from(POST_ROUTES), body=HOSTILE_BODIES)
        def answered(path: str, body: bytes) -> None:
            CASES.append(1)
            reply = client.post(path, content=body, headers={"Content-Type": "application/json"})
            assert reply.status_code < 500, (path, body[:200], reply.text)
            if reply.status_code >= 400:
                assert reply.json()["error"]["code"]

        answered()
