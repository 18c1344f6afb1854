"""Webhooks: the task stream Lambda that queues a task's final event from the tasks table's
DynamoDB Stream (the outbox: the write that ends a task is the event's only source), and
the sender Lambda that consumes the webhook queue (one try per message) and records every
try in the webhooks table. The queue, its dead-letter queue and the tables live in
Storage."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.functions import python_function

# A batch's tries run one after another, each bounded by FACEPORT_WEBHOOK_TIMEOUT_S (10 s).
BATCH_SIZE = 5
SENDER_TIMEOUT = cdk.Duration.seconds(90)
STREAM_BATCH_SIZE = 10
STREAM_RETRIES = 10


class Webhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: sqs.IQueue,
        dead_letters: sqs.IQueue,
        table: dynamodb.ITable,
        tasks: dynamodb.ITable,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.stream_function = python_function(
            self,
            "TaskStream",
            handler="functions.task_stream.handler.lambda_handler",
            environment=environment,
            description="faceport task stream: the write that ends a task queues its webhook",
            memory_mb=256,
            timeout=cdk.Duration.seconds(60),
        )
        # Per-record failures: Lambda retries from the first record that failed, splitting
        # the batch; a record still failing after the retries is reported to the dead-letter
        # queue (whose depth alarms) instead of holding up its shard for the stream's 24 h.
        self.stream_function.add_event_source(
            sources.DynamoEventSource(
                tasks,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=STREAM_BATCH_SIZE,
                bisect_batch_on_error=True,
                retry_attempts=STREAM_RETRIES,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(dead_letters),
            )
        )
        table.grant_read_write_data(self.stream_function)
        queue.grant_send_messages(self.stream_function)
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
