"""Tasks in SQLite: the local TaskStore, and the queue the worker pool claims from."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faceport import bounds, task_store
from faceport.adapters.local.sqlite_db import SqliteDatabase
from faceport.errors import FaceportError, ValidationFailed
from faceport.ports import TaskPage
from faceport.stored import is_stand_in, parse_task
from faceport.tasks import Task, TaskStatus, utcnow

# Runs inside the transaction that ends a task; what it writes commits with the final state.
EndHook = Callable[[sqlite3.Connection, Task], None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  REAL NOT NULL,
    lease_until REAL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_by_account ON tasks (account_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, created_at);
-- The original body of a task that could not be read back and was failed in its place.
CREATE TABLE IF NOT EXISTS tasks_unreadable (id TEXT PRIMARY KEY, body TEXT NOT NULL);
"""
# Every read takes the columns `_task` needs to stand in for a body it cannot parse.
_COLUMNS = "body, id, account_id, created_at"


class SqliteTaskStore:
    """TaskStore on one SQLite file. Safe across threads; one process owns the file."""

    def __init__(self, path: Path, on_end: EndHook | None = None) -> None:
        self._database = SqliteDatabase(path)
        self._on_end = on_end
        # Wakes `wait_until_done` callers as soon as a task of this process changes.
        self._changed = threading.Condition()
        self._db().executescript(_SCHEMA)

    # -- connections -----------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        return self._database.connection()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._database.write() as db:
            yield db
        with self._changed:
            self._changed.notify_all()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction on this database, for tables that commit together with tasks
        (the webhook outbox)."""
        return self._write()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection to the database, for reads."""
        return self._db()

    # -- TaskStore ---------------------------------------------------------------------

    def create(self, task: Task) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO tasks (id, account_id, status, created_at, body) VALUES (?,?,?,?,?)",
                (
                    task.id,
                    task.account_id,
                    task.status.value,
                    task.created_at.timestamp(),
                    task.model_dump_json(),
                ),
            )

    def get(self, task_id: str) -> Task | None:
        row = self._db().execute(f"SELECT {_COLUMNS} FROM tasks WHERE id = ?", (task_id,))
        found = row.fetchone()
        return _task(found) if found else None

    def list(
        self, account_id: str, *, status: TaskStatus | None, limit: int, cursor: str | None
    ) -> TaskPage:
        sql = f"SELECT {_COLUMNS} FROM tasks WHERE account_id = ?"
        args: list[Any] = [account_id]
        if status is not None:
            sql += " AND status = ?"
            args.append(status.value)
        if cursor:
            created_at, last_id = _decode_cursor(cursor)
            sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
            args += [created_at, created_at, last_id]
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        args.append(limit + 1)
        rows = self._db().execute(sql, args).fetchall()
        tasks = [_task(r) for r in rows[:limit]]
        more = len(rows) > limit
        next_cursor = _encode_cursor(rows[limit - 1][3], rows[limit - 1][1]) if more else None
        return TaskPage(tasks=tasks, next_cursor=next_cursor)

    def update_if(
        self, task_id: str, expected: Collection[TaskStatus], **changes: Any
    ) -> Task | None:
        # Inside one write transaction: nobody can write between the read and the write.
        with self._write() as db:
            return task_store.update_if(_Records(db, self._on_end), task_id, expected, changes)

    def wait_until_done(self, task_id: str, timeout_s: float) -> Task | None:
        return task_store.wait_until_done(self.get, task_id, timeout_s, self._pause)

    def _pause(self, remaining_s: float) -> None:
        with self._changed:
            # The short cap also catches writes made by another process.
            self._changed.wait(min(remaining_s, 0.25))

    # -- queue for the local worker pool ------------------------------------------------

    def claim_next(self, lease_s: float) -> Task | None:
        """Take the oldest queued task, or a running one whose lease ran out, and lease it.

        A task whose body cannot be read is set aside instead: stored as failed with
        `task_unreadable` (the original body kept in `tasks_unreadable`) and returned as
        such, so the caller settles its hold and goes on with the next one.
        """
        now = time.time()
        with self._write() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE status = 'queued'"
                " OR (status = 'running' AND lease_until < ?) ORDER BY created_at LIMIT 1",
                (now,),
            ).fetchone()
            if row is None:
                return None
            task = _task(row)
            if is_stand_in(task):
                db.execute(
                    "INSERT OR REPLACE INTO tasks_unreadable VALUES (?, ?)", (task.id, row[0])
                )
                db.execute(
                    "UPDATE tasks SET status = ?, body = ?, lease_until = NULL WHERE id = ?",
                    (task.status.value, task.model_dump_json(), task.id),
                )
                return task
            claimed = task.model_copy(
                update={
                    "status": TaskStatus.RUNNING,
                    "started_at": task.started_at or utcnow(),
                    # A poll of a task waiting at its provider is not another attempt.
                    "attempts": task.attempts + (0 if task.at_provider else 1),
                }
            )
            db.execute(
                "UPDATE tasks SET status = ?, body = ?, lease_until = ? WHERE id = ?",
                (claimed.status.value, claimed.model_dump_json(), now + lease_s, task.id),
            )
            return claimed

    def renew_leases(self, task_ids: Collection[str], lease_s: float) -> None:
        if not task_ids:
            return
        marks = ",".join("?" * len(task_ids))
        with self._write() as db:
            db.execute(
                f"UPDATE tasks SET lease_until = ? WHERE status = 'running' AND id IN ({marks})",
                (time.time() + lease_s, *task_ids),
            )

    def defer(self, task_id: str, delay_s: float) -> None:
        """Let a running task's lease run out in `delay_s` (it waits at a provider)."""
        with self._write() as db:
            db.execute(
                "UPDATE tasks SET lease_until = ? WHERE status = 'running' AND id = ?",
                (time.time() + delay_s, task_id),
            )

    def make_due(self, task_id: str) -> bool:
        """Make a task that waits at a provider claimable now; False if it is not waiting
        (not deferred: a worker holds it, or it ended)."""
        with self._write() as db:
            return (
                db.execute(
                    "UPDATE tasks SET lease_until = 0 WHERE status = 'running' AND id = ?"
                    " AND lease_until > ? AND json_extract(body, '$.backend.task_id') IS NOT NULL",
                    (task_id, time.time()),
                ).rowcount
                == 1
            )

    def expire_leases(self) -> int:
        """Make every running task claimable now: at start-up no worker of ours holds one."""
        with self._write() as db:
            return db.execute("UPDATE tasks SET lease_until = 0 WHERE status = 'running'").rowcount


class _Records:
    """The task store primitives within one write transaction (`faceport.task_store`)."""

    def __init__(self, db: sqlite3.Connection, on_end: EndHook | None) -> None:
        self._db = db
        self._on_end = on_end

    def read(self, task_id: str) -> tuple[Task, str] | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM tasks WHERE id = ?", (task_id,)).fetchone()
        # An unreadable task stands in as failed, so no transition applies to it.
        return (_task(row), "") if row else None

    def write(self, task_id: str, version: str, new: Task, *, ends: bool) -> bool:
        self._db.execute(
            "UPDATE tasks SET status = ?, body = ? WHERE id = ?",
            (new.status.value, new.model_dump_json(), task_id),
        )
        if ends and self._on_end is not None:
            self._on_end(self._db, new)
        return True


def _encode_cursor(created_at: float, task_id: str) -> str:
    raw = json.dumps([created_at, task_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor[:_MAX_CURSOR_CHARS] + "=" * (-len(cursor) % 4))
        created_at, task_id = bounds.loads_json(raw)
        if len(cursor) <= _MAX_CURSOR_CHARS and isinstance(task_id, str):
            return float(created_at), task_id
    except (FaceportError, ValueError, TypeError):
        pass
    raise ValidationFailed("The cursor is not one this API gave out.")


_MAX_CURSOR_CHARS = 200


def _task(row: tuple[str, str, str, float]) -> Task:
    body, task_id, account_id, created_at = row
    when = datetime.fromtimestamp(created_at, UTC)
    return parse_task(body, task_id=task_id, account_id=account_id, created_at=when)
