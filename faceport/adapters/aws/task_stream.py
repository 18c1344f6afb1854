"""The webhook outbox on AWS: the tasks table's DynamoDB Stream, consumed by a Lambda that
queues a task's final event when the stream shows the write that ended it.

So the event follows from the task's own write, whichever Lambda made it and whatever
happens to that Lambda afterwards (the stream keeps a record 24 hours and Lambda retries
the batch until this handler takes it). A record handled twice queues the event twice:
the same `webhook-id` (it follows from the task), which consumers drop. See
docs/ARCHITECTURE.md, "Webhooks".
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from faceport import notify
from faceport.adapters.aws.dynamodb_tasks import task_of_item
from faceport.adapters.aws.observability import publish, with_task
from faceport.adapters.aws.runtime import TaskStreamRuntime, build_task_stream
from faceport.settings import AwsSettings
from faceport.tasks import Task, TaskStatus


def ended(record: dict[str, Any]) -> bool:
    """Whether a stream record (NEW_AND_OLD_IMAGES) is the write that ended its task."""
    images = record.get("dynamodb", {})
    new, old = images.get("NewImage"), images.get("OldImage")
    if record.get("eventName") not in ("INSERT", "MODIFY") or not new or "body" not in new:
        return False
    was = TaskStatus(old["status"]["S"]) if old and "status" in old else None
    return TaskStatus(new["status"]["S"]).is_terminal and not (was and was.is_terminal)


def task_ended(task: Task) -> None:
    """The metrics of an ended task (docs: `observability.py`)."""
    operation = task.operation
    publish("Tasks", 1, operation=operation, status=task.status.value)
    if task.status is TaskStatus.SUCCEEDED:
        publish("CreditsCharged", task.price, operation=operation)
        if task.started_at and task.finished_at:
            seconds = (task.finished_at - task.started_at).total_seconds()
            publish("TaskSeconds", seconds, "Seconds", operation=operation)
    backend = task.backend
    if backend is not None and backend.submitted_at is not None and task.finished_at:
        seconds = (task.finished_at - backend.submitted_at).total_seconds()
        publish("ProviderSeconds", seconds, "Seconds", provider=backend.name)


def process(
    runtime: TaskStreamRuntime, event: dict[str, Any], context: Any = None
) -> dict[str, Any]:
    """One batch of stream records; failures are reported per record, so Lambda retries
    from the first one that failed (`{"batchItemFailures": [...]}`)."""

    def one(record: DynamoDBRecord) -> None:
        if not ended(record.raw_event):
            return
        task = task_of_item(record.raw_event["dynamodb"]["NewImage"])
        with_task(task.id)
        task_ended(task)
        final = notify.final_event_of(runtime.queries, task)
        if final is not None:
            runtime.webhooks.enqueue(final)

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return dict(
        process_partial_response(
            event=event, record_handler=one, processor=processor, context=context
        )
    )


@cache
def _runtime() -> TaskStreamRuntime:
    return build_task_stream(AwsSettings.from_environment())


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry (functions/task_stream/handler.py): built on the first call."""
    return process(_runtime(), event, context)
