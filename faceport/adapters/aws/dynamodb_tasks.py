"""Tasks in DynamoDB: the AWS TaskStore.

One item per task: `id` (partition key), `account_id` and `status` as attributes the
`by_account` index and filters need, the whole task as JSON in `body`, and a `version`
that every write checks and bumps. A status change reads the task, checks the expected
status and writes only if nobody wrote in between (a conditional update); of two writers
racing, one wins and the other sees the new status. Other attributes on the item (the
engine's task token, see `sagemaker.py`) are left alone by these writes. No writer queues
anything after its write: the table's stream does (`task_stream.py`).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from faceport import task_store
from faceport.adapters.aws.clients import AwsClients, error_code
from faceport.errors import InputTooLarge, ValidationFailed
from faceport.ports import TaskPage
from faceport.stored import parse_task
from faceport.tasks import Task, TaskStatus

BY_ACCOUNT = "by_account"
_TASK_ID = re.compile(r"^task_[0-9a-f]{12,40}$")
# DynamoDB refuses items over 400 KB; the body is most of one, and a task grows a little
# as it runs (result, error, video info), so a new one must leave room.
MAX_NEW_BODY_BYTES = 300 * 1024


class DynamoDbTaskStore:
    """TaskStore on the tasks table (see infra/storage.py for its keys and index)."""

    def __init__(
        self,
        table: str,
        clients: AwsClients,
        *,
        poll_s: float = 0.5,
    ) -> None:
        self._table = table
        self._clients = clients
        self._poll_s = poll_s

    def create(self, task: Task) -> None:
        body = task.model_dump_json()
        if len(body.encode()) > MAX_NEW_BODY_BYTES:
            raise InputTooLarge(f"The task would be over {MAX_NEW_BODY_BYTES} bytes stored.")
        self._clients.dynamodb.put_item(
            TableName=self._table,
            Item={
                "id": {"S": task.id},
                "account_id": {"S": task.account_id},
                "status": {"S": task.status.value},
                "version": {"N": "1"},
                "body": {"S": body},
            },
            ConditionExpression="attribute_not_exists(id)",
        )

    def get(self, task_id: str) -> Task | None:
        item = self._item(task_id)
        return task_of_item(item) if item else None

    def list(
        self, account_id: str, *, status: TaskStatus | None, limit: int, cursor: str | None
    ) -> TaskPage:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_ACCOUNT,
            "KeyConditionExpression": "account_id = :a",
            "ExpressionAttributeValues": {":a": {"S": account_id}},
            "ScanIndexForward": False,  # ids sort by creation time: newest first
        }
        if status is not None:
            query["FilterExpression"] = "#s = :s"
            query["ExpressionAttributeNames"] = {"#s": "status"}
            query["ExpressionAttributeValues"][":s"] = {"S": status.value}
        if cursor:
            start = _decode_cursor(cursor)
            query["ExclusiveStartKey"] = {"account_id": {"S": account_id}, "id": {"S": start}}
        tasks: list[Task] = []
        # A filter applies after `Limit`, so read pages until one more than asked for is
        # found (it tells whether there is a next page) or the index runs out.
        while len(tasks) <= limit:
            query["Limit"] = limit + 1 - len(tasks)
            page = self._clients.dynamodb.query(**query)
            tasks += [task_of_item(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        more = len(tasks) > limit
        tasks = tasks[:limit]
        return TaskPage(tasks=tasks, next_cursor=_encode_cursor(tasks[-1].id) if more else None)

    def update_if(
        self, task_id: str, expected: Collection[TaskStatus], **changes: Any
    ) -> Task | None:
        return task_store.update_if(self, task_id, expected, changes)

    def wait_until_done(self, task_id: str, timeout_s: float) -> Task | None:
        return task_store.wait_until_done(
            self.get, task_id, timeout_s, lambda remaining: time.sleep(min(remaining, self._poll_s))
        )

    # -- the primitives of faceport.task_store -----------------------------------------

    def read(self, task_id: str) -> tuple[Task, str] | None:
        item = self._item(task_id)
        # An unreadable task stands in as failed, so no transition applies to it.
        return (task_of_item(item), item["version"]["N"]) if item else None

    def write(self, task_id: str, version: str, new: Task, *, ends: bool) -> bool:
        try:
            self._clients.dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": task_id}},
                UpdateExpression="SET #s = :s, body = :b, version = :next",
                ConditionExpression="version = :v",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":s": {"S": new.status.value},
                    ":b": {"S": new.model_dump_json()},
                    ":v": {"N": version},
                    ":next": {"N": str(int(version) + 1)},
                },
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False  # someone wrote first: the rule looks again at what they wrote
            raise
        return True

    def _item(self, task_id: str) -> dict[str, Any] | None:
        reply = self._clients.dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": task_id}}, ConsistentRead=True
        )
        item: dict[str, Any] | None = reply.get("Item")
        return item if item and "body" in item else None


def task_of_item(item: dict[str, Any]) -> Task:
    """The task an item of the tasks table holds (also a stream record's image)."""
    task_id = item["id"]["S"]
    # Ids start with the creation time in milliseconds (tasks.new_task_id).
    try:
        created_at = datetime.fromtimestamp(int(task_id[5:17], 16) / 1000, UTC)
    except ValueError:
        created_at = datetime.fromtimestamp(0, UTC)
    account_id = item.get("account_id", {}).get("S", "")
    return parse_task(
        item["body"]["S"], task_id=task_id, account_id=account_id, created_at=created_at
    )


def _encode_cursor(task_id: str) -> str:
    return base64.urlsafe_b64encode(task_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        task_id = base64.urlsafe_b64decode(cursor[:200] + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:
        raise ValidationFailed("The cursor is not one this API gave out.") from exc
    if not _TASK_ID.match(task_id):
        raise ValidationFailed("The cursor is not one this API gave out.")
    return task_id
