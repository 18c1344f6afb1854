"""Task stream Lambda entry point (the tasks table's DynamoDB Stream, ReportBatchItemFailures):
queues each ended task's final webhook event. Thin; the logic is in faceport."""

from __future__ import annotations

from typing import Any

from faceport.adapters.aws.observability import observed
from faceport.adapters.aws.task_stream import handle


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context)
