"""Webhooks: the sender Lambda that consumes the webhook queue (one try per message) and
records every try in the webhooks table. The queue, its dead-letter queue and the table live
in Storage."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.functions import python_function

# A batch's tries run one after another, each bounded by FACEPORT_WEBHOOK_TIMEOUT_S (10 s).
BATCH_SIZE = 5
SENDER_TIMEOUT = cdk.Duration.seconds(90)


class Webhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: sqs.IQueue,
        table: dynamodb.ITable,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = python_function(
            self,
            "Sender",
            handler="functions.webhooks.handler.lambda_handler",
            environment=environment,
            description="faceport webhook sender: one signed try per queued message",
            memory_mb=256,
            timeout=SENDER_TIMEOUT,
        )
        # Failures are reported per message, so one bad delivery does not redeliver its batch.
        self.function.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=BATCH_SIZE,
                max_batching_window=cdk.Duration.seconds(1),
                report_batch_item_failures=True,
            )
        )
        table.grant_read_write_data(self.function)
        # A try that is not due yet goes back on the queue with a delay.
        queue.grant_send_messages(self.function)
