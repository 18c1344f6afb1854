"""One SQLite file shared by the local stores (tasks, accounts and the ledger, the webhook
outbox): a connection per thread, and write transactions that take the lock up front."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class _FairLock:
    """Writers of this process take turns in arrival order, instead of SQLite's busy
    polling, which starves some under load (docs/ARCHITECTURE.md, "Choices and why")."""

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._next = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._turn:
            ticket = self._next
            self._next += 1
            self._turn.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *_: object) -> None:
        with self._turn:
            self._serving += 1
            self._turn.notify_all()


_LOCKS: dict[Path, _FairLock] = {}
_LOCKS_GUARD = threading.Lock()


class SqliteDatabase:
    """Safe across threads; one process owns the file."""

    def __init__(self, path: Path, *, timeout_s: float = 60) -> None:
        self.path = path
        self._timeout_s = timeout_s
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(path.resolve(), _FairLock())

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: every write goes through `write`)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self._timeout_s, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: what was acknowledged (a 202, a charge) survives a power cut, not only a
            # crash.
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes the write lock at once, so of two
        writers racing one waits and then sees what the other wrote."""
        db = self.connection()
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
