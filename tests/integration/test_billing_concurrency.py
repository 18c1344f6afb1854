"""Exactly-once billing under load, on both stores: 200 parallel submits against an
account that can afford 50, the real worker pool running them (a third fail: no face),
then every commit and release delivered again, in parallel."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from faceport import billing
from faceport.accounts import Caller
from faceport.adapters.local.runtime import build_local_runtime
from faceport.api.native.schemas import FaceSwapRequest, ImageInput
from faceport.api.native.views import submit_face_swap
from faceport.errors import FaceportError
from faceport.settings import Settings
from faceport.tasks import Task, TaskStatus
from tests.conftest import b64
from tests.support.fakes import NO_FACE_MARKER, FakeEngine
from tests.support.tiny import tiny_image

PRICE = 4
AFFORDABLE = 50
SUBMITS = 200

GOOD = ImageInput(base64=b64(tiny_image()))
NO_FACE = ImageInput(base64=b64(tiny_image() + NO_FACE_MARKER))


class Watcher:
    """Reads the account over and over while everything runs; remembers the worst."""

    def __init__(self, store: Any, account_id: str) -> None:
        self.lowest_available = self.lowest_balance = 10**9
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(store, account_id))
        self._thread.start()

    def _watch(self, store: Any, account_id: str) -> None:
        while not self._stop.is_set():
            account = store.get_account(account_id)
            self.lowest_available = min(self.lowest_available, account.available)
            self.lowest_balance = min(self.lowest_balance, account.balance)
            self.samples += 1
            self._stop.wait(0.001)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def test_200_parallel_submits_against_50_affordable(store: Any, settings: Settings) -> None:
    settings = settings.model_copy(update={"max_active_tasks_per_key": 10_000})
    account = store.create_account("race")
    store.top_up(account.id, PRICE * AFFORDABLE, "initial")
    key = store.issue_key(account.id)
    caller = Caller(account.id, key.key_id)
    runtime = build_local_runtime(settings, engine=FakeEngine(), accounts=store)
    watcher = Watcher(store, account.id)

    def submit(n: int) -> Task | str:
        source = NO_FACE if n % 3 == 0 else GOOD
        try:
            return submit_face_swap(
                runtime.services, caller, FaceSwapRequest(source=source, target=GOOD)
            )
        except FaceportError as error:
            return error.code

    with ThreadPoolExecutor(32) as pool:
        outcomes = list(pool.map(submit, range(SUBMITS)))
    accepted = [o for o in outcomes if isinstance(o, Task)]
    refused = Counter(o for o in outcomes if isinstance(o, str))
    assert len(accepted) == AFFORDABLE
    assert refused == {"insufficient_credits": SUBMITS - AFFORDABLE}
    after_submits = store.get_account(account.id)
    assert (after_submits.balance, after_submits.reserved) == (200, 200)
    # refused submits leave no inputs behind
    inputs = (settings.data_dir / "blobs" / "inputs").rglob("*")
    stored = {p.parent.name for p in inputs if p.is_file()}
    assert stored == {t.id for t in accepted}

    runtime.start()
    try:
        ended = [runtime.services.tasks.wait_until_done(t.id, 30) for t in accepted]
    finally:
        runtime.stop()
    statuses = Counter(t.status for t in ended if t is not None)
    succeeded = statuses[TaskStatus.SUCCEEDED]
    assert succeeded + statuses[TaskStatus.FAILED] == AFFORDABLE
    assert 0 < succeeded < AFFORDABLE

    # every commit and release delivered again, crossed ones too, all at once
    def deliver_again(task: Task) -> list[bool]:
        return [
            store.commit(account.id, task.id, PRICE),
            store.release(account.id, task.id),
            billing.settle(store, task) is None,
        ]

    with ThreadPoolExecutor(16) as pool:
        again = [r for rs in pool.map(deliver_again, [t for t in ended if t]) for r in rs[:2]]
    watcher.stop()
    assert not any(again)

    final = store.get_account(account.id)
    assert final.balance == PRICE * AFFORDABLE - PRICE * succeeded
    assert final.reserved == 0
    assert store.usage(account.id)["face_swap"].model_dump() == {
        "count": succeeded,
        "credits": PRICE * succeeded,
    }
    assert watcher.samples > 0 and watcher.lowest_available >= 0 and watcher.lowest_balance >= 0
    entries = store.entries(account.id, limit=10_000)
    kinds = Counter(e.kind for e in entries)
    assert kinds == {
        "top_up": 1,
        "reserve": AFFORDABLE,
        "commit": succeeded,
        "release": AFFORDABLE - succeeded,
    }
    replayed = (sum(e.balance_delta for e in entries), sum(e.reserved_delta for e in entries))
    assert replayed == (final.balance, final.reserved)
    print(
        f"\n{type(store).__name__}: {SUBMITS} submits, {len(accepted)} accepted, "
        f"{dict(refused)} refused; {succeeded} succeeded, {AFFORDABLE - succeeded} failed; "
        f"balance {PRICE * AFFORDABLE} -> {final.balance}, reserved {final.reserved}; "
        f"lowest available seen {watcher.lowest_available} in {watcher.samples} reads"
    )
