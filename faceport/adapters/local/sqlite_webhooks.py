"""Webhooks in SQLite: the outbox, the tries, and the signing secrets, in the same database
file as the tasks, so a task's final event commits in the same transaction as its final
state (`add_in`, called from the task store's end hook)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import UTC, datetime

from pydantic import TypeAdapter

from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.ports import SecretSet
from faceport.webhooks import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    SigningSecret,
    WebhookEvent,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    event_id        TEXT PRIMARY KEY,
    task_id         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at REAL,
    lease_until     REAL,
    body            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_by_task ON webhook_deliveries (task_id);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    event_id TEXT NOT NULL,
    number   INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (event_id, number)
);
CREATE TABLE IF NOT EXISTS signing_secrets (
    account_id TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL
);
"""

logger = logging.getLogger(__name__)

_HISTORY = {"history"}  # kept in webhook_attempts, one row per try
_SECRETS = TypeAdapter(list[SigningSecret])


class SqliteWebhookStore:
    """WebhookOutbox and SigningSecretStore on the task store's database, plus the queue
    the local sender claims due deliveries from."""

    def __init__(self, tasks: SqliteTaskStore) -> None:
        self._tasks = tasks
        self._wake = threading.Condition()
        self._wakes = 0
        tasks.connection().executescript(_SCHEMA)

    # -- WebhookOutbox -------------------------------------------------------------------

    def enqueue(self, event: WebhookEvent) -> Delivery:
        with self._tasks.transaction() as db:
            delivery = self.add_in(db, event)
        self.wake()
        return delivery

    def add_in(self, db: sqlite3.Connection, event: WebhookEvent) -> Delivery:
        """Queue `event` (or start a new series for a known one) inside the caller's
        transaction."""
        row = db.execute(
            "SELECT body FROM webhook_deliveries WHERE event_id = ?", (event.id,)
        ).fetchone()
        now = time.time()
        known = _delivery(event.id, row[0]) if row else None
        if known is None:  # new, or a series whose record cannot be read: start afresh
            delivery = Delivery(event=event, next_attempt_at=_dt(now))
        else:
            delivery = known.model_copy(
                update={
                    "event": event,
                    "status": DeliveryStatus.PENDING,
                    "series_start": known.attempts,
                    "next_attempt_at": _dt(now),
                }
            )
        db.execute(
            "INSERT INTO webhook_deliveries"
            " (event_id, task_id, status, attempts, next_attempt_at, lease_until, body)"
            " VALUES (?,?,?,?,?,NULL,?) ON CONFLICT (event_id) DO UPDATE SET"
            " status = excluded.status, next_attempt_at = excluded.next_attempt_at,"
            " lease_until = NULL, body = excluded.body",
            (
                event.id,
                event.task_id,
                delivery.status.value,
                delivery.attempts,
                now,
                delivery.model_dump_json(exclude=_HISTORY),
            ),
        )
        return delivery

    def deliveries(self, task_id: str) -> list[Delivery]:
        db = self._tasks.connection()
        rows = db.execute(
            "SELECT event_id, body FROM webhook_deliveries WHERE task_id = ? ORDER BY rowid",
            (task_id,),
        ).fetchall()
        found = []
        for event_id, body in rows:
            tries = db.execute(
                "SELECT body FROM webhook_attempts WHERE event_id = ? ORDER BY number",
                (event_id,),
            ).fetchall()
            history = [a for t in tries if (a := _attempt(event_id, t[0])) is not None]
            delivery = _delivery(event_id, body)
            if delivery is not None:
                found.append(delivery.model_copy(update={"history": history}))
        return found

    def get(self, task_id: str, event_id: str) -> Delivery | None:
        row = (
            self._tasks.connection()
            .execute(
                "SELECT body FROM webhook_deliveries WHERE event_id = ? AND task_id = ?",
                (event_id, task_id),
            )
            .fetchone()
        )
        return _delivery(event_id, row[0]) if row else None

    def record(
        self,
        delivery: Delivery,
        attempt: DeliveryAttempt,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> Delivery | None:
        new = delivery.model_copy(
            update={
                "status": status,
                "attempts": attempt.number,
                "next_attempt_at": next_attempt_at,
                "history": [],
            }
        )
        with self._tasks.transaction() as db:
            changed = db.execute(
                "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
                " lease_until = NULL, body = ? WHERE event_id = ? AND attempts = ?",
                (
                    status.value,
                    attempt.number,
                    next_attempt_at.timestamp() if next_attempt_at else None,
                    new.model_dump_json(exclude=_HISTORY),
                    delivery.event.id,
                    delivery.attempts,
                ),
            ).rowcount
            if not changed:
                return None
            db.execute(
                "INSERT INTO webhook_attempts (event_id, number, body) VALUES (?,?,?)",
                (delivery.event.id, attempt.number, attempt.model_dump_json()),
            )
        return new

    # -- the local sender's queue -----------------------------------------------------------

    def claim_due(self, lease_s: float) -> Delivery | None:
        """Take the delivery that has been due longest and lease it for one try; a sender
        that dies mid-try leaves it due again when the lease runs out. One whose record
        cannot be read is marked dead (a redelivery starts it afresh) and skipped."""
        now = time.time()
        with self._tasks.transaction() as db:
            while True:
                row = db.execute(
                    "SELECT event_id, body FROM webhook_deliveries WHERE status = 'pending'"
                    " AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)"
                    " ORDER BY next_attempt_at LIMIT 1",
                    (now, now),
                ).fetchone()
                if row is None:
                    return None
                delivery = _delivery(row[0], row[1])
                if delivery is not None:
                    break
                db.execute(
                    "UPDATE webhook_deliveries SET status = ?, next_attempt_at = NULL"
                    " WHERE event_id = ?",
                    (DeliveryStatus.DEAD.value, row[0]),
                )
            db.execute(
                "UPDATE webhook_deliveries SET lease_until = ? WHERE event_id = ?",
                (now + lease_s, row[0]),
            )
        return delivery

    def seconds_until_due(self) -> float | None:
        """How long until the next pending delivery is due (0 if one is), None if none is
        pending."""
        row = (
            self._tasks.connection()
            .execute(
                "SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, 0)))"
                " FROM webhook_deliveries WHERE status = 'pending'"
            )
            .fetchone()
        )
        return None if row[0] is None else max(0.0, row[0] - time.time())

    def release_leases(self) -> int:
        """Make every leased delivery due at once: at start-up no sender of ours holds one."""
        with self._tasks.transaction() as db:
            return db.execute(
                "UPDATE webhook_deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL"
            ).rowcount

    def wakes(self) -> int:
        """How many times `wake` was called; pass it to `wait` to miss none in between."""
        with self._wake:
            return self._wakes

    def wait(self, seen: int, timeout_s: float, stop: threading.Event) -> None:
        """Sleep until `wake` is called again after `seen`, `stop` is set, or the timeout."""
        with self._wake:
            self._wake.wait_for(lambda: self._wakes != seen or stop.is_set(), timeout_s)

    def wake(self) -> None:
        with self._wake:
            self._wakes += 1
            self._wake.notify_all()

    # -- SigningSecretStore ------------------------------------------------------------------

    def load(self, account_id: str) -> SecretSet:
        row = (
            self._tasks.connection()
            .execute(
                "SELECT version, body FROM signing_secrets WHERE account_id = ?", (account_id,)
            )
            .fetchone()
        )
        if row is None:
            return SecretSet(version=0, secrets=[])
        return SecretSet(version=row[0], secrets=_SECRETS.validate_json(row[1]))

    def save(self, account_id: str, secrets: list[SigningSecret], expected_version: int) -> bool:
        body = _SECRETS.dump_json(secrets).decode()
        with self._tasks.transaction() as db:
            if expected_version == 0:
                sql = (
                    "INSERT INTO signing_secrets (account_id, version, body) VALUES (?, 1, ?)"
                    " ON CONFLICT (account_id) DO NOTHING"
                )
                return db.execute(sql, (account_id, body)).rowcount == 1
            return (
                db.execute(
                    "UPDATE signing_secrets SET version = version + 1, body = ?"
                    " WHERE account_id = ? AND version = ?",
                    (body, account_id, expected_version),
                ).rowcount
                == 1
            )


def _delivery(event_id: str, body: str) -> Delivery | None:
    """The stored delivery, or None (logged) when its record cannot be read back."""
    try:
        return Delivery.model_validate_json(body)
    except Exception:  # pydantic's ValidationError, RecursionError, anything a body causes
        logger.exception("webhook delivery %s cannot be read back; setting it aside", event_id)
        return None


def _attempt(event_id: str, body: str) -> DeliveryAttempt | None:
    try:
        return DeliveryAttempt.model_validate_json(body)
    except Exception:
        logger.exception("a try of webhook delivery %s cannot be read back", event_id)
        return None


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
