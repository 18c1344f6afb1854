"""The resolver's first requests, many at once: Powertools builds each route's middleware
stack lazily, in place, on its first call; two first calls at once used to interleave the
stack's frames (a 500 with a TypeError inside)."""

from __future__ import annotations

import sys
import threading

from faceport.adapters.local.runtime import build_local_runtime
from faceport.settings import Settings
from tests.support.api_client import Api, call, new_account
from tests.support.fakes import FakeEngine


def test_first_calls_at_once_all_succeed(settings: Settings) -> None:
    unlimited = settings.model_copy(update={"rate_limit_per_s": 1e6, "rate_limit_burst": 10**6})
    runtime = build_local_runtime(unlimited, engine=FakeEngine())
    api_key = new_account(runtime.accounts, runtime.accounts, credits=10)
    statuses: list[int] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, as a loaded server does
    try:
        for _ in range(100):  # a fresh resolver each time: its routes are not built yet
            api = Api(runtime.services, api_key)
            start = threading.Barrier(8)

            def first_call(api: Api = api, start: threading.Barrier = start) -> None:
                start.wait()
                statuses.append(call(api, "GET", "/v1/account").status)

            threads = [threading.Thread(target=first_call) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert sorted(statuses) == [200] * 800
