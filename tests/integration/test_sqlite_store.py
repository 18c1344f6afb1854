"""The SQLite task store for real: claims, leases, a reopened file (what both stores do,
ordering, cursors and conditional writes, is in test_task_stores.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.tasks import TaskStatus
from tests.support.tasks import make_task


@pytest.fixture
def store(tmp_path: Path) -> SqliteTaskStore:
    return SqliteTaskStore(tmp_path / "tasks.sqlite3")


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
