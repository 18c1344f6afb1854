"""One contract suite for both task stores: SQLite for real and DynamoDB under moto run the
same tests (the transition rule they share is faceport.task_store)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.dynamodb_tasks import DynamoDbTaskStore, task_of_item
from faceport.adapters.aws.task_stream import ended
from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.errors import ValidationFailed
from faceport.ports import TaskStore
from faceport.tasks import ACTIVE, Task, TaskStatus
from tests.support.aws import create_tables, stream_records
from tests.support.tasks import make_task

RUNNING = (TaskStatus.RUNNING,)


class Ended:
    """Which tasks ended, once each, as the outbox saw them: SQLite's end hook (inside the
    transaction), DynamoDB's stream records that `task_stream.ended` picks."""

    def __init__(self) -> None:
        self.hooked: list[Task] = []
        self.table: str | None = None

    def sqlite(self, _db: Any, task: Task) -> None:
        self.hooked.append(task)

    @property
    def tasks(self) -> list[Task]:
        if self.table is None:
            return self.hooked
        records = stream_records(self.table)
        return [task_of_item(r["dynamodb"]["NewImage"]) for r in records if ended(r)]


@pytest.fixture
def ended_tasks() -> Ended:
    return Ended()


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, ended_tasks: Ended
) -> Iterator[TaskStore]:
    if request.param == "sqlite":
        yield SqliteTaskStore(tmp_path / "tasks.sqlite3", on_end=ended_tasks.sqlite)
        return
    request.getfixturevalue("aws")
    client = AwsClients().dynamodb
    ended_tasks.table = create_tables(dynamodb=client)["tasks"]
    yield DynamoDbTaskStore(ended_tasks.table, AwsClients(dynamodb=client), poll_s=0.05)


def test_round_trip(store: TaskStore) -> None:
    task = make_task()
    store.create(task)
    assert store.get(task.id) == task
    assert store.get("task_missing") is None


def test_list_filters_by_status(store: TaskStore) -> None:
    done, waiting = make_task(), make_task(offset_s=1)
    store.create(done)
    store.create(waiting)
    store.update_if(done.id, ACTIVE, status=TaskStatus.CANCELED)
    page = store.list("acct_1", status=TaskStatus.CANCELED, limit=10, cursor=None)
    assert [t.id for t in page.tasks] == [done.id]


def test_bad_cursor_is_a_validation_error(store: TaskStore) -> None:
    with pytest.raises(ValidationFailed):
        store.list("acct_1", status=None, limit=3, cursor="garbage!!")


def test_update_if_is_conditional(store: TaskStore) -> None:
    task = make_task()
    store.create(task)
    assert store.update_if(task.id, [TaskStatus.RUNNING], progress=50) is None
    canceled = store.update_if(task.id, ACTIVE, status=TaskStatus.CANCELED)
    assert canceled is not None and canceled.status is TaskStatus.CANCELED
    assert store.update_if(task.id, ACTIVE, status=TaskStatus.SUCCEEDED) is None
    stored = store.get(task.id)
    assert stored is not None and stored.status is TaskStatus.CANCELED


def test_of_two_racing_writers_exactly_one_wins(store: TaskStore) -> None:
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


def test_wait_until_done_wakes_on_change(store: TaskStore) -> None:
    task = make_task()
    store.create(task)
    timer = threading.Timer(0.1, store.update_if, (task.id, ACTIVE), {"status": TaskStatus.FAILED})
    timer.start()
    started = time.monotonic()
    done = store.wait_until_done(task.id, timeout_s=5)
    elapsed = time.monotonic() - started
    timer.join()  # its write done before the store's (moto) context closes
    assert done is not None and done.status is TaskStatus.FAILED
    assert elapsed < 1.0


def test_wait_until_done_times_out(store: TaskStore) -> None:
    task = make_task()
    store.create(task)
    waited = store.wait_until_done(task.id, timeout_s=0.2)
    assert waited is not None and waited.status is TaskStatus.QUEUED


def test_status_changes_are_conditional(store: TaskStore) -> None:
    task = make_task()
    store.create(task)
    assert store.update_if(task.id, RUNNING, progress=50) is None  # still queued
    running = store.update_if(task.id, ACTIVE, status=TaskStatus.RUNNING)
    assert running is not None and running.status is TaskStatus.RUNNING
    canceled = store.update_if(task.id, ACTIVE, status=TaskStatus.CANCELED)
    assert canceled is not None
    assert store.update_if(task.id, RUNNING, status=TaskStatus.SUCCEEDED) is None
    assert store.get(task.id) == canceled


def test_list_is_newest_first_per_account_with_filter_and_cursor(
    store: TaskStore,
) -> None:
    tasks = []
    for i in range(7):
        task = make_task()
        store.create(task)
        tasks.append(task)
        threading.Event().wait(0.002)  # ids carry milliseconds
        if i % 2:
            store.update_if(task.id, ACTIVE, status=TaskStatus.CANCELED)
    store.create(make_task(account="acct_other"))
    newest_first = [t.id for t in reversed(tasks)]

    seen, cursor = [], None
    while True:
        page = store.list("acct_1", status=None, limit=3, cursor=cursor)
        seen += [t.id for t in page.tasks]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == newest_first

    canceled = store.list("acct_1", status=TaskStatus.CANCELED, limit=2, cursor=None)
    assert [t.id for t in canceled.tasks] == [
        t for t in newest_first if t in {x.id for x in tasks[1::2]}
    ][:2]
    rest = store.list("acct_1", status=TaskStatus.CANCELED, limit=2, cursor=canceled.next_cursor)
    assert [t.status for t in rest.tasks] == [TaskStatus.CANCELED]
    assert rest.next_cursor is None

    with pytest.raises(ValidationFailed):
        store.list("acct_1", status=None, limit=3, cursor="not-a-cursor")


def test_wait_until_done_returns_when_the_task_ends(store: TaskStore) -> None:
    task = make_task()
    store.create(task)
    timer = threading.Timer(0.2, store.update_if, (task.id, ACTIVE), {"status": TaskStatus.FAILED})
    timer.start()
    done = store.wait_until_done(task.id, 5)
    timer.join()
    assert done is not None and done.status is TaskStatus.FAILED
    still = make_task()
    store.create(still)
    waited = store.wait_until_done(still.id, 0.1)
    assert waited is not None and waited.status is TaskStatus.QUEUED


def test_an_unknown_task_is_never_updated(store: TaskStore) -> None:
    assert store.update_if("task_000000000000ffffffffffffffff", ACTIVE, progress=1) is None
    assert store.get("task_000000000000ffffffffffffffff") is None


def test_the_end_hook_runs_once_for_the_write_that_ends_the_task(
    store: TaskStore, ended_tasks: Ended
) -> None:
    task = make_task()
    store.create(task)
    store.update_if(task.id, ACTIVE, status=TaskStatus.RUNNING, progress=10)
    assert ended_tasks.tasks == []
    barrier = threading.Barrier(6)

    def end(status: TaskStatus) -> None:
        barrier.wait()
        store.update_if(task.id, ACTIVE, status=status)

    threads = [
        threading.Thread(target=end, args=(s,))
        for s in [TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED] * 2
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = store.get(task.id)
    assert stored is not None and stored.status.is_terminal
    assert ended_tasks.tasks == [stored]  # once, with the final state, by the writer that won
    assert stored.progress == 10  # the changes merge onto what was stored
    store.update_if(task.id, [stored.status], progress=20)  # a later write of an ended task
    assert len(ended_tasks.tasks) == 1
