"""The tables' keys, indexes and TTL attributes, in plain Python: the CDK storage construct
builds the tables from these, and the moto tests create the same tables from them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Index:
    name: str
    partition: str
    sort: str | None = None


@dataclass(frozen=True)
class TableSpec:
    partition: str
    sort: str | None = None
    indexes: tuple[Index, ...] = field(default=())
    ttl: str | None = None
    # A DynamoDB Stream's view type, for a table whose writes others react to.
    stream: str | None = None


# Every key attribute is a string.
TABLES: dict[str, TableSpec] = {
    # One item per task; task ids sort by creation time, so the index read backwards is
    # "newest first". The engine's task token sits on the same item (inference id = task id).
    # Its stream is the webhook outbox: the write that ends a task queues its final event
    # (faceport/adapters/aws/task_stream.py), compared old image to new.
    "tasks": TableSpec(
        "id", indexes=(Index("by_account", "account_id", "id"),), stream="NEW_AND_OLD_IMAGES"
    ),
    # Single-table: accounts, API key hashes and ledger entries (issue 6).
    "accounts": TableSpec("pk", "sk"),
    "idempotency": TableSpec("pk", ttl="expires_at"),
    # Webhook deliveries and signing secrets (issue 7).
    "webhooks": TableSpec("pk", "sk", ttl="expires_at"),
}
