"""The SQLite task store for real: ordering, cursors, conditional writes, leases."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.tasks import InputRef, Task, TaskParams, TaskStatus, new_task_id, utcnow


def make_task(account: str = "a1", offset_s: float = 0.0) -> Task:
    return Task(
        id=new_task_id(),
        account_id=account,
        operation="face_swap",
        params=TaskParams(),
        inputs={"source": InputRef(blob="s"), "target": InputRef(blob="t")},
        created_at=utcnow() + timedelta(seconds=offset_s),
    )


@pytest.fixture
def store(tmp_path: Path) -> SqliteTaskStore:
    return SqliteTaskStore(tmp_path / "tasks.sqlite3")


def test_list_is_newest_first_per_account_with_cursor(store: SqliteTaskStore) -> None:
    mine = [make_task("a1", offset_s=i) for i in range(7)]
    for task in [*mine, make_task("a2")]:
        store.create(task)
    seen: list[str] = []
    cursor = None
    while True:
        page = store.list("a1", status=None, limit=3, cursor=cursor)
        seen += [t.id for t in page.tasks]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [t.id for t in reversed(mine)]


def test_claim_takes_oldest_and_leases_it(store: SqliteTaskStore) -> None:
    old, new = make_task(offset_s=-5), make_task()
    store.create(new)
    store.create(old)
    claimed = store.claim_next(lease_s=60)
    assert claimed is not None and claimed.id == old.id
    assert claimed.status is TaskStatus.RUNNING and claimed.attempts == 1
    assert claimed.started_at is not None
    second = store.claim_next(lease_s=60)
    assert second is not None and second.id == new.id
    assert store.claim_next(lease_s=60) is None  # both leased


def test_expired_lease_makes_a_running_task_claimable_again(store: SqliteTaskStore) -> None:
    store.create(make_task())
    first = store.claim_next(lease_s=0.05)
    assert first is not None
    time.sleep(0.1)
    again = store.claim_next(lease_s=60)
    assert again is not None and again.id == first.id and again.attempts == 2


def test_renewed_lease_is_not_taken(store: SqliteTaskStore) -> None:
    store.create(make_task())
    first = store.claim_next(lease_s=0.2)
    assert first is not None
    store.renew_leases([first.id], lease_s=60)
    time.sleep(0.3)
    assert store.claim_next(lease_s=60) is None


def test_data_survives_a_new_store_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    task = make_task()
    SqliteTaskStore(path).create(task)
    assert SqliteTaskStore(path).get(task.id) == task
