"""Webhooks on AWS: deliveries, tries and signing secrets in the DynamoDB webhooks table,
and the SQS queue whose messages time the tries.

Table layout (partition `pk`, sort `sk`, both strings; TTL attribute `expires_at`):

- a delivery: pk `task#<task id>`, sk `delivery#<event id>`; status, attempts, series_start,
  next_attempt_at, event (JSON), expires_at
- a try: pk `task#<task id>`, sk `attempt#<event id>#<number, 5 digits>`; body (JSON),
  expires_at
- an account's signing secrets: pk `account#<account id>`, sk `signing_secrets`; version,
  secrets (JSON); no expires_at, they never expire

Clients are injectable (tests pass moto-backed ones); the defaults are made on first use.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from faceport import notify
from faceport.adapters.aws.clients import AwsClients, error_code
from faceport.ports import SecretSet
from faceport.tasks import utcnow
from faceport.webhooks import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    QueuedTry,
    SigningSecret,
    WebhookEvent,
)

SQS_MAX_DELAY_S = 900
RECORD_TTL_S = 30 * 24 * 3600  # deliveries and tries stay listable for 30 days
_SECRETS = TypeAdapter(list[SigningSecret])


class SqsWebhookQueue:
    """WebhookQueue on SQS. Delays beyond SQS's 15 minutes are covered by the sender
    putting an early message back (see `notify.handle_queued_try`)."""

    def __init__(self, queue_url: str, clients: AwsClients) -> None:
        self._url = queue_url
        self._clients = clients

    def send(self, queued: QueuedTry, delay_s: float) -> None:
        self._clients.sqs.send_message(
            QueueUrl=self._url,
            MessageBody=queued.model_dump_json(),
            DelaySeconds=max(0, min(SQS_MAX_DELAY_S, math.ceil(delay_s))),
        )


class DynamoWebhookStore:
    """WebhookOutbox and SigningSecretStore on the webhooks table; `enqueue` also puts the
    first try's message on the queue."""

    def __init__(self, table: str, queue: SqsWebhookQueue, clients: AwsClients) -> None:
        self._table = table
        self._queue = queue
        self._clients = clients

    @property
    def _db(self) -> Any:
        return self._clients.dynamodb

    # -- WebhookOutbox -------------------------------------------------------------------

    def enqueue(self, event: WebhookEvent) -> Delivery:
        now = utcnow()
        # New: attempts 0. Known (a redelivery, or the notify step run again): a new series
        # starts where the tries so far left off, and the history stays.
        item = self._db.update_item(
            TableName=self._table,
            Key=_delivery_key(event.task_id, event.id),
            UpdateExpression=(
                "SET #status = :pending, event = :event, next_attempt_at = :now,"
                " attempts = if_not_exists(attempts, :zero),"
                " series_start = if_not_exists(attempts, :zero), expires_at = :expires"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":pending": {"S": DeliveryStatus.PENDING.value},
                ":event": {"S": event.model_dump_json()},
                ":now": {"S": now.isoformat()},
                ":zero": {"N": "0"},
                ":expires": {"N": str(_expires())},
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
        delivery = _delivery(item)
        notify.queue_first_try(self._queue, delivery)
        return delivery

    def get(self, task_id: str, event_id: str) -> Delivery | None:
        item = self._db.get_item(
            TableName=self._table, Key=_delivery_key(task_id, event_id), ConsistentRead=True
        ).get("Item")
        return _delivery(item) if item else None

    def deliveries(self, task_id: str) -> list[Delivery]:
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"task#{task_id}"}},
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**query)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        tries: dict[str, list[DeliveryAttempt]] = {}
        found: list[Delivery] = []
        for item in items:  # sorted by sk: attempt#... (in number order) before delivery#...
            sk = item["sk"]["S"]
            if sk.startswith("attempt#"):
                event_id = sk.split("#")[1]
                tries.setdefault(event_id, []).append(
                    DeliveryAttempt.model_validate_json(item["body"]["S"])
                )
            else:
                found.append(_delivery(item))
        found = [d.model_copy(update={"history": tries.get(d.event.id, [])}) for d in found]
        return sorted(found, key=lambda d: d.event.created_at)

    def record(
        self,
        delivery: Delivery,
        attempt: DeliveryAttempt,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> Delivery | None:
        event = delivery.event
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": _delivery_key(event.task_id, event.id),
                            "UpdateExpression": (
                                "SET #status = :status, attempts = :number, next_attempt_at = :next"
                            ),
                            "ConditionExpression": "attempts = :before",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":status": {"S": status.value},
                                ":number": {"N": str(attempt.number)},
                                ":before": {"N": str(delivery.attempts)},
                                ":next": (
                                    {"S": next_attempt_at.isoformat()}
                                    if next_attempt_at
                                    else {"NULL": True}
                                ),
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                "pk": {"S": f"task#{event.task_id}"},
                                "sk": {"S": f"attempt#{event.id}#{attempt.number:05d}"},
                                "body": {"S": attempt.model_dump_json()},
                                "expires_at": {"N": str(_expires())},
                            },
                        }
                    },
                ]
            )
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException":
                return None  # someone recorded a try first
            raise
        return delivery.model_copy(
            update={
                "status": status,
                "attempts": attempt.number,
                "next_attempt_at": next_attempt_at,
            }
        )

    # -- SigningSecretStore ------------------------------------------------------------------

    def load(self, account_id: str) -> SecretSet:
        item = self._db.get_item(
            TableName=self._table, Key=_secrets_key(account_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return SecretSet(version=0, secrets=[])
        return SecretSet(
            version=int(item["version"]["N"]),
            secrets=_SECRETS.validate_json(item["secrets"]["S"]),
        )

    def save(self, account_id: str, secrets: list[SigningSecret], expected_version: int) -> bool:
        condition = "attribute_not_exists(pk)" if expected_version == 0 else "version = :expected"
        values: dict[str, Any] = {":expected": {"N": str(expected_version)}}
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    **_secrets_key(account_id),
                    "version": {"N": str(expected_version + 1)},
                    "secrets": {"S": _SECRETS.dump_json(secrets).decode()},
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if expected_version else {}),
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _delivery_key(task_id: str, event_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"task#{task_id}"}, "sk": {"S": f"delivery#{event_id}"}}


def _secrets_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"account#{account_id}"}, "sk": {"S": "signing_secrets"}}


def _expires() -> int:
    return int(time.time()) + RECORD_TTL_S


def _delivery(item: dict[str, Any]) -> Delivery:
    next_at = item.get("next_attempt_at", {}).get("S")
    return Delivery(
        event=WebhookEvent.model_validate_json(item["event"]["S"]),
        status=DeliveryStatus(item["status"]["S"]),
        attempts=int(item["attempts"]["N"]),
        series_start=int(item["series_start"]["N"]),
        next_attempt_at=datetime.fromisoformat(next_at) if next_at else None,
    )
