"""Keys, credits, idempotency and limits through the API, behind the local authorizer."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

import pytest

from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.settings import Settings
from tests.conftest import b64
from tests.support.api_client import Api, call, new_account
from tests.support.fakes import NO_FACE_MARKER, FakeEngine
from tests.support.tiny import tiny_image

IMG = b64(tiny_image("PNG"))
SWAP = {"source": {"base64": IMG}, "target": {"base64": IMG}}
NO_FACE_SWAP = {
    "source": {"base64": b64(tiny_image("PNG") + NO_FACE_MARKER)},
    "target": SWAP["target"],
}


def account_of(app: Api) -> dict[str, Any]:
    reply = call(app, "GET", "/v1/account")
    assert reply.status == 200, reply.body
    account: dict[str, Any] = reply.json()
    return account


def settled_account(app: Api, timeout_s: float = 5.0) -> dict[str, Any]:
    """The account once no credits are held: a task's status is written just before its
    charge is settled, so a client may see it end a moment before the account changes."""
    deadline = time.monotonic() + timeout_s
    while (account := account_of(app))["reserved"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return account


def funded_app(runtime: LocalRuntime, credits: int) -> Api:
    return Api(runtime.services, new_account(runtime.accounts, runtime.accounts, credits))


def header_styles(key: str) -> list[dict[str, str]]:
    key_id, secret = key[:20], key[21:]
    return [
        {"Authorization": f"Bearer {key}"},
        {"authorization": f"bearer {key}"},
        {"X-Api-Key": key},
        {"ailabapi-api-key": key},
        {"mj-api-secret": key},
        {"X-Request-req-accessKeyId": key_id, "X-Request-req-accessKeySecret": secret},
        {"X-Request-req-accessKeyId": key_id, "X-Request-req-accessKeySecret": key},
    ]


def test_every_header_style_reaches_the_same_account(app: Api, api_key: str) -> None:
    anonymous = app.as_key(None)
    expected = account_of(app)["id"]
    for headers in header_styles(api_key):
        reply = call(anonymous, "GET", "/v1/account", headers=headers)
        assert (reply.status, reply.json().get("id")) == (200, expected), headers


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_api_key"),
        ({"Authorization": "Bearer "}, "missing_api_key"),
        ({"X-Api-Key": "not-a-key"}, "invalid_api_key"),
        ({"X-Api-Key": "fpk_0000000000000000_" + "A" * 40}, "invalid_api_key"),
        ({"X-Request-req-accessKeyId": "fpk_0000000000000000"}, "invalid_api_key"),
    ],
)
def test_missing_or_malformed_keys_are_401(app: Api, headers: dict[str, str], code: str) -> None:
    for method, path in [("GET", "/v1/account"), ("POST", "/v1/face-swap"), ("GET", "/v2/x")]:
        reply = call(app.as_key(None), method, path, SWAP, headers)
        assert (reply.status, reply.code) == (401, code), (method, path, reply.body)
        assert reply.json()["error"]["message"]


def test_a_wrong_secret_for_a_real_key_id_is_401(app: Api, api_key: str) -> None:
    wrong = api_key[:-1] + ("B" if api_key[-1] != "B" else "C")
    for headers in header_styles(wrong):
        reply = call(app.as_key(None), "GET", "/v1/account", headers=headers)
        assert (reply.status, reply.code) == (401, "invalid_api_key"), headers
    mismatched = {"X-Request-req-accessKeyId": "fpk_0000000000000000"}
    mismatched["X-Request-req-accessKeySecret"] = api_key
    assert call(app.as_key(None), "GET", "/v1/account", headers=mismatched).status == 401


def test_a_revoked_key_is_401_and_other_keys_of_the_account_still_work(
    runtime: LocalRuntime, app: Api
) -> None:
    account_id = account_of(app)["id"]
    second = runtime.accounts.issue_key(account_id).token
    runtime.accounts.revoke_key(second[:20])
    reply = call(app.as_key(second), "GET", "/v1/account")
    assert (reply.status, reply.code) == (401, "revoked_api_key")
    assert call(app, "GET", "/v1/account").status == 200


def test_docs_and_openapi_need_no_key(app: Api) -> None:
    anonymous = app.as_key(None)
    assert call(anonymous, "GET", "/openapi.json").status == 200
    assert call(anonymous, "GET", "/docs").status == 200
    schemes = call(anonymous, "GET", "/openapi.json").json()["components"]["securitySchemes"]
    assert set(schemes) == {"bearer", "apiKey"}


def test_two_accounts_never_see_each_others_tasks(runtime: LocalRuntime, app: Api) -> None:
    other = funded_app(runtime, 100)
    mine = call(app, "POST", "/v1/face-swap", SWAP, {"Prefer": "wait=10"}).json()
    theirs = call(other, "POST", "/v1/face-swap", SWAP, {"Prefer": "wait=10"}).json()
    for reader, foreign in [(other, mine), (app, theirs)]:
        assert call(reader, "GET", f"/v1/tasks/{foreign['id']}").status == 404
        assert call(reader, "POST", f"/v1/tasks/{foreign['id']}/cancel").code == "not_found"
        listed = [t["id"] for t in call(reader, "GET", "/v1/tasks").json()["data"]]
        assert foreign["id"] not in listed and len(listed) == 1
    assert settled_account(other)["balance"] == 96


def test_success_charges_failure_and_cancel_do_not(
    runtime: LocalRuntime, fake_engine: FakeEngine
) -> None:
    app = funded_app(runtime, 20)
    done = call(app, "POST", "/v1/face-swap", SWAP, {"Prefer": "wait=10"}).json()
    assert (done["status"], done["price"]) == ("succeeded", 4)
    failed = call(app, "POST", "/v1/face-swap", NO_FACE_SWAP, {"Prefer": "wait=10"}).json()
    assert failed["status"] == "failed"
    assert settled_account(app)["balance"] == 16
    fake_engine.gate = threading.Event()
    try:
        running = call(app, "POST", "/v1/face-fusion", SWAP | {"similarity": 0.5}).json()
        assert account_of(app)["reserved"] == 4
        assert call(app, "POST", f"/v1/tasks/{running['id']}/cancel").status == 200
    finally:
        fake_engine.gate.set()
    detect = call(app, "POST", "/v1/face-detect", {"image": {"base64": IMG}}).json()
    assert detect["price"] == 1
    account = settled_account(app)
    assert (account["balance"], account["reserved"], account["available"]) == (15, 0, 15)
    assert account["usage"] == {
        "face_swap": {"count": 1, "credits": 4},
        "face_detect": {"count": 1, "credits": 1},
    }


def test_without_enough_credits_a_submit_is_402_and_stores_nothing(
    runtime: LocalRuntime,
) -> None:
    app = funded_app(runtime, 3)
    reply = call(app, "POST", "/v1/face-swap", SWAP)
    assert (reply.status, reply.code) == (402, "insufficient_credits")
    assert reply.json()["error"]["details"] == {"price": 4, "available": 3}
    assert call(app, "GET", "/v1/tasks").json()["data"] == []
    assert not list((runtime.services.settings.data_dir / "blobs").rglob("*.*"))
    assert call(app, "POST", "/v1/face-detect", {"image": {"base64": IMG}}).status == 200


def test_idempotency_key_gives_the_same_task_and_charges_once(runtime: LocalRuntime) -> None:
    app = funded_app(runtime, 100)
    key = {"Idempotency-Key": "order-17", "Prefer": "wait=10"}
    first = call(app, "POST", "/v1/face-swap", SWAP, key)
    reordered = {"target": SWAP["target"], "source": SWAP["source"]}
    again = call(app, "POST", "/v1/face-swap", reordered, key)
    assert first.json()["id"] == again.json()["id"]
    assert (first.status, again.status) == (200, 200)
    reused = call(app, "POST", "/v1/face-swap", SWAP | {"output_format": "jpg"}, key)
    assert (reused.status, reused.code) == (422, "idempotency_key_reused")
    # the same key on another route is another body too
    fusion = call(app, "POST", "/v1/face-fusion", SWAP | {"similarity": 0.5}, key)
    assert fusion.code == "idempotency_key_reused"
    assert settled_account(app)["balance"] == 96
    assert len(call(app, "GET", "/v1/tasks").json()["data"]) == 1
    bad = call(app, "POST", "/v1/face-swap", SWAP, {"Idempotency-Key": "x" * 256})
    assert (bad.status, bad.code) == (400, "invalid_idempotency_key")


def test_parallel_repeats_of_one_idempotency_key_make_one_task(runtime: LocalRuntime) -> None:
    app = funded_app(runtime, 100)
    results: list[str] = []

    def send() -> None:
        reply = call(app, "POST", "/v1/face-swap", SWAP, {"Idempotency-Key": "k"})
        results.append(reply.json()["id"])

    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and len(results) == 12
    account = settled_account(app)
    assert account["balance"] == 96
    kinds = [e.kind for e in runtime.accounts.entries(account["id"])]
    assert kinds == ["top_up", "reserve", "commit"]


def test_requests_over_the_keys_rate_are_429_with_retry_after(
    settings: Settings, fake_engine: FakeEngine
) -> None:
    tight = settings.model_copy(update={"rate_limit_per_s": 0.5, "rate_limit_burst": 3})
    runtime = build_local_runtime(tight, engine=fake_engine)
    app = funded_app(runtime, 10)
    other = funded_app(runtime, 10)
    assert [call(app, "GET", "/v1/account").status for _ in range(3)] == [200] * 3
    limited = call(app, "GET", "/v1/account")
    assert (limited.status, limited.code) == (429, "rate_limited")
    assert limited.headers["retry-after"] == "2"
    assert call(other, "GET", "/v1/account").status == 200  # per key


def test_unfinished_tasks_per_key_are_limited(settings: Settings, fake_engine: FakeEngine) -> None:
    runtime = build_local_runtime(
        settings.model_copy(update={"max_active_tasks_per_key": 2}), engine=fake_engine
    )
    app = funded_app(runtime, 100)  # the pool is not started: tasks stay queued
    assert [call(app, "POST", "/v1/face-swap", SWAP).status for _ in range(2)] == [202, 202]
    reply = call(app, "POST", "/v1/face-swap", SWAP)
    assert (reply.status, reply.code) == (429, "too_many_concurrent_tasks")
    assert reply.headers["retry-after"] == "1"
    assert account_of(app)["reserved"] == 8


def test_keys_never_reach_the_logs(
    app: Api, api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    call(app, "POST", "/v1/face-swap", SWAP, {"Prefer": "wait=10"})
    call(app.as_key(api_key[:-1] + "x"), "GET", "/v1/account")
    call(app, "POST", "/v1/face-swap", "{broken")
    assert caplog.records  # something was logged, and none of it is the key
    assert api_key[21:] not in caplog.text and api_key[:-1] not in caplog.text


def test_requests_served_at_once_each_act_for_their_own_caller(
    settings: Settings, fake_engine: FakeEngine
) -> None:
    # The local server resolves many requests at once; Powertools' resolver keeps the
    # request it is resolving on itself, so each must get a resolver of its own.
    unlimited = settings.model_copy(update={"rate_limit_per_s": 1e6, "rate_limit_burst": 10**6})
    runtime = build_local_runtime(unlimited, engine=fake_engine)
    first = funded_app(runtime, 10)
    keys = [first.api_key, new_account(runtime.accounts, runtime.accounts, 20)]
    seen: list[tuple[int, int]] = []

    def ask(n: int) -> None:
        for _ in range(20):
            reply = call(first.as_key(keys[n % 2]), "GET", "/v1/account")
            seen.append((n % 2, reply.json()["balance"]))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, as a loaded server does
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert len(seen) == 160
    assert {balance for who, balance in seen if who == 0} == {10}
    assert {balance for who, balance in seen if who == 1} == {20}
