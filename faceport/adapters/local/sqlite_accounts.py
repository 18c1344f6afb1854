"""Accounts, API keys, the credit ledger and idempotency keys in SQLite (the local
AccountStore and Ledger). Every change is one `BEGIN IMMEDIATE` transaction, so of two
writers one waits for the other, and CHECK constraints keep 0 <= reserved <= balance even
against a bug in this file."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from faceport.accounts import (
    Account,
    ApiKeyRecord,
    EntryKind,
    Hold,
    IdempotencyClaim,
    IssuedKey,
    LedgerEntry,
    Usage,
    hash_key,
    new_account_id,
    new_api_key,
)
from faceport.adapters.local.sqlite_db import SqliteDatabase
from faceport.errors import (
    AccountNotFound,
    IdempotencyKeyReused,
    InsufficientCredits,
    NotFound,
    RevokedApiKey,
    TooManyConcurrentTasks,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    balance    INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    reserved   INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= balance),
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    secret_hash TEXT NOT NULL,
    created_at  REAL NOT NULL,
    revoked_at  REAL,
    active      INTEGER NOT NULL DEFAULT 0 CHECK (active >= 0)
);
CREATE TABLE IF NOT EXISTS ledger (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    ref             TEXT NOT NULL,
    kind            TEXT NOT NULL,
    balance_delta   INTEGER NOT NULL,
    reserved_delta  INTEGER NOT NULL,
    operation       TEXT,
    key_id          TEXT,
    idempotency_key TEXT,
    settled         TEXT,
    at              REAL NOT NULL,
    UNIQUE (account_id, ref, kind)
);
CREATE INDEX IF NOT EXISTS open_holds ON ledger (kind, settled, at);
CREATE TABLE IF NOT EXISTS usage (
    account_id TEXT NOT NULL,
    operation  TEXT NOT NULL,
    count      INTEGER NOT NULL,
    credits    INTEGER NOT NULL,
    PRIMARY KEY (account_id, operation)
);
CREATE TABLE IF NOT EXISTS idempotency (
    account_id  TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    expires_at  REAL NOT NULL,
    PRIMARY KEY (account_id, key)
);
"""


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class SqliteAccounts:
    """AccountStore and Ledger on one SQLite file (the data dir's database)."""

    def __init__(self, path: Path) -> None:
        self._database = SqliteDatabase(path)
        self._db = self._database.connection
        self._write = self._database.write
        self._db().executescript(_SCHEMA)

    # -- AccountStore --------------------------------------------------------------------

    def create_account(self, name: str) -> Account:
        account = Account(
            id=new_account_id(), name=name, balance=0, reserved=0, created_at=datetime.now(UTC)
        )
        with self._write() as db:
            db.execute(
                "INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)",
                (account.id, name, account.created_at.timestamp()),
            )
        return account

    def get_account(self, account_id: str) -> Account | None:
        row = (
            self._db()
            .execute(
                "SELECT id, name, balance, reserved, created_at FROM accounts WHERE id = ?",
                (account_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return Account(
            id=row[0], name=row[1], balance=row[2], reserved=row[3], created_at=_dt(row[4])
        )

    def issue_key(self, account_id: str) -> IssuedKey:
        issued = new_api_key(account_id)
        with self._write() as db:
            if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone() is None:
                raise AccountNotFound(f"No account {account_id!r}.")
            db.execute(
                "INSERT INTO api_keys (id, account_id, secret_hash, created_at) VALUES (?,?,?,?)",
                (issued.key_id, account_id, hash_key(issued.token), time.time()),
            )
        return issued

    def find_key(self, key_id: str) -> ApiKeyRecord | None:
        row = (
            self._db()
            .execute(
                "SELECT id, account_id, secret_hash, created_at, revoked_at FROM api_keys"
                " WHERE id = ?",
                (key_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return ApiKeyRecord(
            id=row[0],
            account_id=row[1],
            secret_hash=row[2],
            created_at=_dt(row[3]),
            revoked_at=_dt(row[4]) if row[4] is not None else None,
        )

    def revoke_key(self, key_id: str) -> ApiKeyRecord:
        with self._write() as db:
            db.execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                (time.time(), key_id),
            )
        record = self.find_key(key_id)
        if record is None:
            raise NotFound(f"No API key {key_id!r}.")
        return record

    # -- Ledger --------------------------------------------------------------------------

    def reserve(
        self, hold: Hold, *, idempotency: IdempotencyClaim | None = None, max_active: int = 0
    ) -> str:
        now = time.time()
        with self._write() as db:
            if idempotency is not None:
                row = db.execute(
                    "SELECT fingerprint, task_id FROM idempotency"
                    " WHERE account_id = ? AND key = ? AND expires_at > ?",
                    (hold.account_id, idempotency.key, now),
                ).fetchone()
                if row is not None:
                    if row[0] != idempotency.fingerprint:
                        raise IdempotencyKeyReused()
                    return str(row[1])
            if self._entry(db, hold.account_id, hold.task_id, "reserve") is not None:
                return hold.task_id
            account = db.execute(
                "SELECT balance - reserved FROM accounts WHERE id = ?", (hold.account_id,)
            ).fetchone()
            if account is None or account[0] < hold.amount:
                available = account[0] if account else 0
                raise InsufficientCredits(
                    f"This request costs {hold.amount} credits; {available} are available.",
                    price=hold.amount,
                    available=available,
                )
            if hold.key_id is not None:
                key = db.execute(
                    "SELECT active, revoked_at FROM api_keys WHERE id = ?", (hold.key_id,)
                ).fetchone()
                if key is not None and key[1] is not None:
                    raise RevokedApiKey()
                if key is not None and 0 < max_active <= key[0]:
                    raise TooManyConcurrentTasks(
                        f"This API key already has {max_active} unfinished tasks."
                    )
            db.execute(
                "UPDATE accounts SET reserved = reserved + ? WHERE id = ?",
                (hold.amount, hold.account_id),
            )
            if hold.key_id is not None:
                db.execute("UPDATE api_keys SET active = active + 1 WHERE id = ?", (hold.key_id,))
            db.execute(
                "INSERT INTO ledger (account_id, ref, kind, balance_delta, reserved_delta,"
                " operation, key_id, idempotency_key, at) VALUES (?,?,'reserve',0,?,?,?,?,?)",
                (
                    hold.account_id,
                    hold.task_id,
                    hold.amount,
                    hold.operation,
                    hold.key_id,
                    idempotency.key if idempotency else None,
                    now,
                ),
            )
            if idempotency is not None:
                db.execute(
                    "INSERT OR REPLACE INTO idempotency VALUES (?,?,?,?,?)",
                    (
                        hold.account_id,
                        idempotency.key,
                        idempotency.fingerprint,
                        hold.task_id,
                        now + idempotency.ttl_s,
                    ),
                )
        return hold.task_id

    def commit(self, account_id: str, task_id: str, amount: int) -> bool:
        return self._settle(account_id, task_id, "commit", amount)

    def release(self, account_id: str, task_id: str) -> bool:
        return self._settle(account_id, task_id, "release", 0)

    def abandon(self, account_id: str, task_id: str) -> None:
        with self._write() as db:
            self._settle_in(db, account_id, task_id, "release", 0)
            db.execute(
                "DELETE FROM idempotency WHERE account_id = ? AND task_id = ?",
                (account_id, task_id),
            )

    def _settle(self, account_id: str, task_id: str, kind: EntryKind, charge: int) -> bool:
        with self._write() as db:
            return self._settle_in(db, account_id, task_id, kind, charge)

    def _settle_in(
        self, db: sqlite3.Connection, account_id: str, task_id: str, kind: EntryKind, charge: int
    ) -> bool:
        hold = db.execute(
            "SELECT reserved_delta, operation, key_id FROM ledger"
            " WHERE account_id = ? AND ref = ? AND kind = 'reserve' AND settled IS NULL",
            (account_id, task_id),
        ).fetchone()
        if hold is None:
            return False
        held, operation, key_id = hold
        charge = min(charge, held)
        db.execute(
            "UPDATE ledger SET settled = ? WHERE account_id = ? AND ref = ? AND kind = 'reserve'",
            (kind, account_id, task_id),
        )
        db.execute(
            "INSERT INTO ledger (account_id, ref, kind, balance_delta, reserved_delta,"
            " operation, key_id, at) VALUES (?,?,?,?,?,?,?,?)",
            (account_id, task_id, kind, -charge, -held, operation, key_id, time.time()),
        )
        db.execute(
            "UPDATE accounts SET balance = balance - ?, reserved = reserved - ? WHERE id = ?",
            (charge, held, account_id),
        )
        if key_id is not None:
            # max(): a miscounted key must never block a charge from settling.
            db.execute("UPDATE api_keys SET active = max(active - 1, 0) WHERE id = ?", (key_id,))
        if kind == "commit":
            db.execute(
                "INSERT INTO usage VALUES (?, ?, 1, ?) ON CONFLICT (account_id, operation)"
                " DO UPDATE SET count = count + 1, credits = credits + excluded.credits",
                (account_id, operation, charge),
            )
        return True

    def top_up(self, account_id: str, credits: int, reference: str) -> bool:
        with self._write() as db:
            if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone() is None:
                raise AccountNotFound(f"No account {account_id!r}.")
            if self._entry(db, account_id, reference, "top_up") is not None:
                return False
            db.execute(
                "INSERT INTO ledger (account_id, ref, kind, balance_delta, reserved_delta, at)"
                " VALUES (?, ?, 'top_up', ?, 0, ?)",
                (account_id, reference, credits, time.time()),
            )
            db.execute(
                "UPDATE accounts SET balance = balance + ? WHERE id = ?", (credits, account_id)
            )
        return True

    def claimed_task(self, account_id: str, key: str) -> str | None:
        row = (
            self._db()
            .execute(
                "SELECT task_id FROM idempotency WHERE account_id = ? AND key = ?"
                " AND expires_at > ?",
                (account_id, key, time.time()),
            )
            .fetchone()
        )
        return str(row[0]) if row else None

    def open_reservations(self, older_than_s: float) -> list[Hold]:
        rows = (
            self._db()
            .execute(
                "SELECT account_id, ref, operation, reserved_delta, key_id FROM ledger"
                " WHERE kind = 'reserve' AND settled IS NULL AND at <= ? ORDER BY seq",
                (time.time() - older_than_s,),
            )
            .fetchall()
        )
        return [Hold(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def usage(self, account_id: str) -> dict[str, Usage]:
        rows = (
            self._db()
            .execute(
                "SELECT operation, count, credits FROM usage WHERE account_id = ?", (account_id,)
            )
            .fetchall()
        )
        return {r[0]: Usage(count=r[1], credits=r[2]) for r in rows}

    def entries(self, account_id: str, limit: int = 1000) -> list[LedgerEntry]:
        rows = (
            self._db()
            .execute(
                "SELECT ref, kind, balance_delta, reserved_delta, operation, at FROM ledger"
                " WHERE account_id = ? ORDER BY seq DESC LIMIT ?",
                (account_id, limit),
            )
            .fetchall()
        )
        return [
            LedgerEntry(
                account_id=account_id,
                ref=r[0],
                kind=r[1],
                balance_delta=r[2],
                reserved_delta=r[3],
                operation=r[4],
                at=_dt(r[5]),
            )
            for r in reversed(rows)
        ]

    @staticmethod
    def _entry(
        db: sqlite3.Connection, account_id: str, ref: str, kind: EntryKind
    ) -> tuple[int] | None:
        row: tuple[int] | None = db.execute(
            "SELECT seq FROM ledger WHERE account_id = ? AND ref = ? AND kind = ?",
            (account_id, ref, kind),
        ).fetchone()
        return row
