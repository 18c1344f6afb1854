"""Accounts, API keys and the credit ledger in DynamoDB (AccountStore and Ledger).

One table, partition `pk` + sort `sk`:

    ACCOUNT#<id>  ACCOUNT               name, balance, reserved, available, usage_*
    ACCOUNT#<id>  ENTRY#<ref>#<kind>    a ledger entry (ref: task id or top-up reference)
    KEY#<key id>  KEY                   account_id, secret_hash, revoked_at, active

and the idempotency table, partition `pk` with TTL on `expires_at`:

    IDEM#<account id>#<key>             fingerprint, task_id, expires_at

Every change of credits is one TransactWriteItems: the ledger entry is put only if it does
not exist, in the same transaction as the account update, whose condition keeps
`available` (= balance - reserved, kept as an attribute because conditions cannot do
arithmetic) from going below zero. A duplicate fails its condition and changes nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from faceport.accounts import (
    Account,
    ApiKeyRecord,
    EntryKind,
    Hold,
    IdempotencyClaim,
    IssuedKey,
    LedgerEntry,
    RateQuota,
    Usage,
    hash_key,
    new_account_id,
    new_api_key,
)
from faceport.adapters.aws.clients import AwsClients
from faceport.errors import (
    AccountNotFound,
    IdempotencyKeyReused,
    InsufficientCredits,
    NotFound,
    RevokedApiKey,
    TooManyConcurrentTasks,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_CONFLICT_RETRIES = 12


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, Decimal)) else 0


def _dt(epoch: Any) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC)


def _account_key(account_id: str) -> dict[str, Any]:
    return _item({"pk": f"ACCOUNT#{account_id}", "sk": "ACCOUNT"})


def _entry_key(account_id: str, ref: str, kind: str) -> dict[str, Any]:
    return _item({"pk": f"ACCOUNT#{account_id}", "sk": f"ENTRY#{ref}#{kind}"})


def _key_key(key_id: str) -> dict[str, Any]:
    return _item({"pk": f"KEY#{key_id}", "sk": "KEY"})


def _idem_key(account_id: str, key: str) -> dict[str, Any]:
    return _item({"pk": f"IDEM#{account_id}#{key}"})


class _Cancelled(Exception):
    """A transaction's conditions failed: `codes[i]` is item i's reason."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(codes)
        self.codes = codes

    def failed(self, index: int) -> bool:
        return index < len(self.codes) and self.codes[index] == "ConditionalCheckFailed"


class DynamoAccounts:
    """AccountStore and Ledger on the accounts table (and the idempotency table)."""

    def __init__(
        self,
        accounts_table: str,
        idempotency_table: str | None = None,
        clients: AwsClients | None = None,
    ) -> None:
        self._table = accounts_table
        self._idem_table = idempotency_table
        self._clients = clients or AwsClients()

    @property
    def _client(self) -> Any:
        return self._clients.dynamodb

    # -- helpers -------------------------------------------------------------------------

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self._client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return _plain(item) if item else None

    def _transact(self, items: list[dict[str, Any]]) -> None:
        """TransactWriteItems, retrying transaction conflicts (another transaction on the
        same items); raises `_Cancelled` when a condition fails."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self._client.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in codes:
                    raise _Cancelled(codes) from exc
                if attempt == _CONFLICT_RETRIES - 1:
                    raise
                time.sleep(random.uniform(0, 0.01 * 2**attempt))  # conflict: back off, retry

    def _update(
        self, table: str, key: dict[str, Any], update: str, condition: str | None, **values: Any
    ) -> dict[str, Any]:
        update_item: dict[str, Any] = {
            "TableName": table,
            "Key": key,
            "UpdateExpression": update,
            "ExpressionAttributeValues": _item({f":{k}": v for k, v in values.items()}),
        }
        if condition is not None:
            update_item["ConditionExpression"] = condition
        return {"Update": update_item}

    def _put_new(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": table,
                "Item": _item(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    @property
    def _idempotency_table(self) -> str:
        if self._idem_table is None:
            raise RuntimeError("Idempotency keys need the idempotency table.")
        return self._idem_table

    # -- AccountStore --------------------------------------------------------------------

    def create_account(self, name: str) -> Account:
        account = Account(
            id=new_account_id(), name=name, balance=0, reserved=0, created_at=datetime.now(UTC)
        )
        self._client.put_item(
            TableName=self._table,
            Item=_item(
                {
                    "pk": f"ACCOUNT#{account.id}",
                    "sk": "ACCOUNT",
                    "id": account.id,
                    "name": name,
                    "balance": 0,
                    "reserved": 0,
                    "available": 0,
                    "created_at": Decimal(str(account.created_at.timestamp())),
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return account

    def get_account(self, account_id: str) -> Account | None:
        item = self._get(self._table, _account_key(account_id))
        if item is None:
            return None
        return Account(
            id=item["id"],
            name=item["name"],
            balance=_int(item["balance"]),
            reserved=_int(item["reserved"]),
            created_at=_dt(item["created_at"]),
        )

    def issue_key(self, account_id: str) -> IssuedKey:
        if self.get_account(account_id) is None:
            raise AccountNotFound(f"No account {account_id!r}.")
        issued = new_api_key(account_id)
        self._client.put_item(
            TableName=self._table,
            Item=_item(
                {
                    "pk": f"KEY#{issued.key_id}",
                    "sk": "KEY",
                    "id": issued.key_id,
                    "account_id": account_id,
                    "secret_hash": hash_key(issued.token),
                    "created_at": Decimal(str(time.time())),
                    "active": 0,
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return issued

    def find_key(self, key_id: str) -> ApiKeyRecord | None:
        item = self._get(self._table, _key_key(key_id))
        if item is None:
            return None
        revoked = item.get("revoked_at")
        return ApiKeyRecord(
            id=item["id"],
            account_id=item["account_id"],
            secret_hash=item["secret_hash"],
            created_at=_dt(item["created_at"]),
            revoked_at=_dt(revoked) if revoked is not None else None,
        )

    def revoke_key(self, key_id: str) -> ApiKeyRecord:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key_key(key_id),
                UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=_item({":now": Decimal(str(time.time()))}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound(f"No API key {key_id!r}.") from exc
            raise
        record = self.find_key(key_id)
        assert record is not None
        return record

    # -- Ledger --------------------------------------------------------------------------

    def reserve(
        self, hold: Hold, *, idempotency: IdempotencyClaim | None = None, max_active: int = 0
    ) -> str:
        now = time.time()
        if idempotency is not None:
            earlier = self._earlier_task(hold.account_id, idempotency, now)
            if earlier is not None:
                return earlier
        items = [
            self._put_new(
                self._table,
                {
                    "pk": f"ACCOUNT#{hold.account_id}",
                    "sk": f"ENTRY#{hold.task_id}#reserve",
                    "ref": hold.task_id,
                    "kind": "reserve",
                    "balance_delta": 0,
                    "reserved_delta": hold.amount,
                    "operation": hold.operation,
                    "key_id": hold.key_id,
                    "idempotency_key": idempotency.key if idempotency else None,
                    "at": Decimal(str(now)),
                },
            ),
            self._update(
                self._table,
                _account_key(hold.account_id),
                "SET reserved = reserved + :a, available = available - :a",
                "attribute_exists(pk) AND available >= :a",
                a=hold.amount,
            ),
        ]
        if hold.key_id is not None:
            limit = " AND active < :max" if max_active > 0 else ""
            values: dict[str, Any] = {"one": 1, **({"max": max_active} if max_active else {})}
            items.append(
                self._update(
                    self._table,
                    _key_key(hold.key_id),
                    "ADD active :one",
                    f"attribute_exists(pk) AND attribute_not_exists(revoked_at){limit}",
                    **values,
                )
            )
        if idempotency is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self._idempotency_table,
                        "Item": _item(
                            {
                                "pk": f"IDEM#{hold.account_id}#{idempotency.key}",
                                "fingerprint": idempotency.fingerprint,
                                "task_id": hold.task_id,
                                "expires_at": int(now) + idempotency.ttl_s,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                        "ExpressionAttributeValues": _item({":now": int(now)}),
                    }
                }
            )
        try:
            self._transact(items)
        except _Cancelled as cancelled:
            return self._why_not_reserved(cancelled, hold, idempotency, now)
        return hold.task_id

    def _earlier_task(self, account_id: str, claim: IdempotencyClaim, now: float) -> str | None:
        item = self._get(self._idempotency_table, _idem_key(account_id, claim.key))
        if item is None or _int(item["expires_at"]) < now:
            return None  # TTL deletes lazily: an expired key counts as unused
        if item["fingerprint"] != claim.fingerprint:
            raise IdempotencyKeyReused()
        return str(item["task_id"])

    def _why_not_reserved(
        self,
        cancelled: _Cancelled,
        hold: Hold,
        idempotency: IdempotencyClaim | None,
        now: float,
    ) -> str:
        if idempotency is not None and cancelled.failed(len(cancelled.codes) - 1):
            earlier = self._earlier_task(hold.account_id, idempotency, now)
            if earlier is not None:
                return earlier
        if cancelled.failed(0):
            return hold.task_id  # this task already holds its price
        if cancelled.failed(1):
            account = self.get_account(hold.account_id)
            available = account.available if account else 0
            raise InsufficientCredits(
                f"This request costs {hold.amount} credits; {available} are available.",
                price=hold.amount,
                available=available,
            )
        key = self.find_key(hold.key_id) if hold.key_id else None
        if key is not None and key.revoked_at is not None:
            raise RevokedApiKey()
        raise TooManyConcurrentTasks("This API key already has its most unfinished tasks.")

    def commit(self, account_id: str, task_id: str, amount: int) -> bool:
        return self._settle(account_id, task_id, "commit", amount) is not None

    def release(self, account_id: str, task_id: str) -> bool:
        return self._settle(account_id, task_id, "release", 0) is not None

    def abandon(self, account_id: str, task_id: str) -> None:
        hold = self._settle(account_id, task_id, "release", 0)
        entry = hold or self._get(self._table, _entry_key(account_id, task_id, "reserve"))
        key = (entry or {}).get("idempotency_key")
        if key is None or self._idem_table is None:
            return
        try:
            self._client.delete_item(
                TableName=self._idem_table,
                Key=_idem_key(account_id, key),
                ConditionExpression="task_id = :t",
                ExpressionAttributeValues=_item({":t": task_id}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _settle(
        self, account_id: str, task_id: str, kind: EntryKind, charge: int
    ) -> dict[str, Any] | None:
        """Commit or release the task's open hold; the hold's entry, or None if none was
        open (already settled, or never held)."""
        entry = self._get(self._table, _entry_key(account_id, task_id, "reserve"))
        if entry is None or "settled" in entry:
            return None
        held = _int(entry["reserved_delta"])
        charge = min(charge, held)
        operation, key_id = entry.get("operation"), entry.get("key_id")
        account_update = (
            "SET balance = balance - :c, reserved = reserved - :r, available = available + :free"
        )
        values: dict[str, Any] = {"c": charge, "r": held, "free": held - charge}
        if kind == "commit" and operation:
            account_update += " ADD #count :one, #credits :c"
            values["one"] = 1
        items = [
            self._update(
                self._table,
                _entry_key(account_id, task_id, "reserve"),
                "SET settled = :kind",
                "attribute_exists(pk) AND attribute_not_exists(settled)",
                kind=kind,
            ),
            self._put_new(
                self._table,
                {
                    "pk": f"ACCOUNT#{account_id}",
                    "sk": f"ENTRY#{task_id}#{kind}",
                    "ref": task_id,
                    "kind": kind,
                    "balance_delta": -charge,
                    "reserved_delta": -held,
                    "operation": operation,
                    "key_id": key_id,
                    "at": Decimal(str(time.time())),
                },
            ),
            self._update(
                self._table,
                _account_key(account_id),
                account_update,
                "balance >= :c AND reserved >= :r",
                **values,
            ),
        ]
        if kind == "commit" and operation:
            items[2]["Update"]["ExpressionAttributeNames"] = {
                "#count": f"usage_count_{operation}",
                "#credits": f"usage_credits_{operation}",
            }
        if key_id:
            # No condition: a miscounted key must never block a charge from settling.
            items.append(
                self._update(self._table, _key_key(key_id), "ADD active :minus", None, minus=-1)
            )
        try:
            self._transact(items)
        except _Cancelled as cancelled:
            if cancelled.failed(0) or cancelled.failed(1):
                return None  # settled meanwhile by a duplicate: nothing changes
            raise
        return entry

    def top_up(self, account_id: str, credits: int, reference: str) -> bool:
        items = [
            self._put_new(
                self._table,
                {
                    "pk": f"ACCOUNT#{account_id}",
                    "sk": f"ENTRY#{reference}#top_up",
                    "ref": reference,
                    "kind": "top_up",
                    "balance_delta": credits,
                    "reserved_delta": 0,
                    "at": Decimal(str(time.time())),
                },
            ),
            self._update(
                self._table,
                _account_key(account_id),
                "SET balance = balance + :n, available = available + :n",
                "attribute_exists(pk)",
                n=credits,
            ),
        ]
        try:
            self._transact(items)
        except _Cancelled as cancelled:
            if cancelled.failed(1):
                raise AccountNotFound(f"No account {account_id!r}.") from None
            return False
        return True

    def open_reservations(self, older_than_s: float) -> list[Hold]:
        # An operator's or a scheduled job's call, not a request's: a filtered scan is fine.
        paginator = self._client.get_paginator("scan")
        holds = []
        for page in paginator.paginate(
            TableName=self._table,
            FilterExpression="kind = :reserve AND attribute_not_exists(settled) AND #at <= :cut",
            ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues=_item(
                {":reserve": "reserve", ":cut": Decimal(str(time.time() - older_than_s))}
            ),
        ):
            for raw in page.get("Items", []):
                item = _plain(raw)
                holds.append(
                    Hold(
                        account_id=item["pk"].removeprefix("ACCOUNT#"),
                        task_id=item["ref"],
                        operation=item.get("operation", ""),
                        amount=_int(item["reserved_delta"]),
                        key_id=item.get("key_id"),
                    )
                )
        return holds

    def usage(self, account_id: str) -> dict[str, Usage]:
        item = self._get(self._table, _account_key(account_id)) or {}
        prefix = "usage_count_"
        return {
            name[len(prefix) :]: Usage(
                count=_int(value), credits=_int(item.get(f"usage_credits_{name[len(prefix) :]}"))
            )
            for name, value in item.items()
            if name.startswith(prefix)
        }

    def entries(self, account_id: str, limit: int = 1000) -> list[LedgerEntry]:
        paginator = self._client.get_paginator("query")
        found = []
        for page in paginator.paginate(
            TableName=self._table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :entry)",
            ExpressionAttributeValues=_item({":pk": f"ACCOUNT#{account_id}", ":entry": "ENTRY#"}),
        ):
            found += [_plain(raw) for raw in page.get("Items", [])]
        found.sort(key=lambda item: (item["at"], item["sk"]))
        return [
            LedgerEntry(
                account_id=account_id,
                ref=item["ref"],
                kind=item["kind"],
                balance_delta=_int(item["balance_delta"]),
                reserved_delta=_int(item["reserved_delta"]),
                operation=item.get("operation"),
                at=_dt(item["at"]),
            )
            for item in found[-limit:]
        ]


class DynamoRateLimiter:
    """RateLimiter across Lambda instances: a counter per key and second in the idempotency
    table (expiring by TTL); over `per_s` in one second is a 429. (Fixed windows admit up
    to twice the rate across a boundary; API Gateway's own stage throttling caps bursts.)"""

    def __init__(
        self,
        table: str,
        per_s: float,
        clients: AwsClients | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table
        self._limit = max(1, int(per_s))
        self._clients = clients or AwsClients()
        self._clock = clock

    def acquire(self, key_id: str) -> RateQuota:
        from faceport.errors import RateLimited

        second = int(self._clock())
        try:
            counted = self._clients.dynamodb.update_item(
                TableName=self._table,
                Key=_item({"pk": f"RATE#{key_id}#{second}"}),
                UpdateExpression="ADD n :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues=_item(
                    {":one": 1, ":exp": second + 120, ":limit": self._limit}
                ),
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                quota = RateQuota(limit=self._limit, remaining=0, reset_s=1)
                raise RateLimited(retry_after_s=1, quota=quota) from exc
            raise
        used = _int(_plain(counted["Attributes"]).get("n"))
        return RateQuota(limit=self._limit, remaining=max(0, self._limit - used), reset_s=1)


def tables_of_stack(stack_name: str, clients: AwsClients) -> tuple[str, str | None]:
    """The accounts and idempotency table names of a deployed stack, from its outputs
    `AccountsTableName` and `IdempotencyTableName`."""
    stacks = clients.cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if "AccountsTableName" not in outputs:
        raise NotFound(f"Stack {stack_name!r} has no AccountsTableName output.")
    return outputs["AccountsTableName"], outputs.get("IdempotencyTableName")
