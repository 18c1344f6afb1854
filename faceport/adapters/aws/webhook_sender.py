"""The webhook sender Lambda: SQS batches in, one try per due message, partial batch
failures out (only the messages whose processing raised are retried by SQS, and after the
queue's maxReceiveCount they land in its dead-letter queue)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from faceport import notify
from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.observability import publish, with_task
from faceport.adapters.aws.webhooks import DynamoWebhookStore, SqsWebhookQueue
from faceport.settings import Settings
from faceport.webhooks import QueuedTry


@dataclass(frozen=True)
class AwsWebhookSender:
    deps: notify.WebhookDeps
    queue: SqsWebhookQueue

    @classmethod
    def from_settings(
        cls, settings: Settings, clients: AwsClients | None = None
    ) -> AwsWebhookSender:
        if not settings.webhooks_table or not settings.webhook_queue_url:
            raise RuntimeError("FACEPORT_WEBHOOKS_TABLE and FACEPORT_WEBHOOK_QUEUE_URL must be set")
        clients = clients or AwsClients()
        queue = SqsWebhookQueue(settings.webhook_queue_url, clients)
        store = DynamoWebhookStore(settings.webhooks_table, queue, clients)
        deps = notify.WebhookDeps(
            outbox=store,
            secrets=store,
            post=notify.http_poster(settings),
            policy=settings.webhook_retry_policy,
        )
        return cls(deps=deps, queue=queue)

    def process(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Handle one SQS batch; returns `{"batchItemFailures": [...]}`."""

        def one(record: SQSRecord) -> None:
            queued = QueuedTry.model_validate_json(record.body)
            with_task(queued.task_id)
            tried = notify.handle_queued_try(self.deps, self.queue, queued)
            if tried is not None:
                publish("WebhookTries", 1, outcome=tried.status.value)

        processor = BatchProcessor(event_type=EventType.SQS)
        response = process_partial_response(
            event=event, record_handler=one, processor=processor, context=context
        )
        return dict(response)


@cache
def _sender() -> AwsWebhookSender:
    return AwsWebhookSender.from_settings(Settings())


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry (functions/webhooks/handler.py): built on the first call, kept warm."""
    return _sender().process(event, context)
