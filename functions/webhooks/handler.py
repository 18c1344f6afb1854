"""Webhook sender Lambda entry point (SQS event source, ReportBatchItemFailures): thin on
purpose; the logic lives in faceport.notify."""

from __future__ import annotations

from typing import Any

from faceport.adapters.aws.observability import observed
from faceport.adapters.aws.webhook_sender import handle


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context)
