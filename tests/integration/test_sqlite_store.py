"""The SQLite task store for real: ordering, cursors, conditional writes, leases."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.errors import ValidationFailed
from faceport.tasks import ACTIVE, InputRef, Task, TaskParams, TaskStatus, new_task_id, utcnow


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


def test_round_trip(store: SqliteTaskStore) -> None:
    task = make_task()
    store.create(task)
    assert store.get(task.id) == task
    assert store.get("task_missing") is None


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


def test_list_filters_by_status(store: SqliteTaskStore) -> None:
    done, waiting = make_task(), make_task(offset_s=1)
    store.create(done)
    store.create(waiting)
    store.update_if(done.id, ACTIVE, status=TaskStatus.CANCELED)
    page = store.list("a1", status=TaskStatus.CANCELED, limit=10, cursor=None)
    assert [t.id for t in page.tasks] == [done.id]


def test_bad_cursor_is_a_validation_error(store: SqliteTaskStore) -> None:
    with pytest.raises(ValidationFailed):
        store.list("a1", status=None, limit=3, cursor="garbage!!")


def test_update_if_is_conditional(store: SqliteTaskStore) -> None:
    task = make_task()
    store.create(task)
    assert store.update_if(task.id, [TaskStatus.RUNNING], progress=50) is None
    canceled = store.update_if(task.id, ACTIVE, status=TaskStatus.CANCELED)
    assert canceled is not None and canceled.status is TaskStatus.CANCELED
    assert store.update_if(task.id, ACTIVE, status=TaskStatus.SUCCEEDED) is None
    stored = store.get(task.id)
    assert stored is not None and stored.status is TaskStatus.CANCELED


def test_of_two_racing_writers_exactly_one_wins(store: SqliteTaskStore) -> None:
    task = make_task()
    store.create(task)
    results: list[Task | None] = []
    barrier = threading.Barrier(8)

    def writer(status: TaskStatus) -> None:
        barrier.wait()
        results.append(store.update_if(task.id, ACTIVE, status=status))

    statuses = [TaskStatus.CANCELED, TaskStatus.FAILED] * 4
    threads = [threading.Thread(target=writer, args=(s,)) for s in statuses]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = store.get(task.id)
    assert stored is not None and stored.status is winners[0].status


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


def test_wait_until_done_wakes_on_change(store: SqliteTaskStore) -> None:
    task = make_task()
    store.create(task)
    timer = threading.Timer(0.1, store.update_if, (task.id, ACTIVE), {"status": TaskStatus.FAILED})
    timer.start()
    started = time.monotonic()
    done = store.wait_until_done(task.id, timeout_s=5)
    assert done is not None and done.status is TaskStatus.FAILED
    assert time.monotonic() - started < 1.0


def test_wait_until_done_times_out(store: SqliteTaskStore) -> None:
    task = make_task()
    store.create(task)
    waited = store.wait_until_done(task.id, timeout_s=0.2)
    assert waited is not None and waited.status is TaskStatus.QUEUED


def test_data_survives_a_new_store_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    task = make_task()
    SqliteTaskStore(path).create(task)
    assert SqliteTaskStore(path).get(task.id) == task
