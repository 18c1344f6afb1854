"""Webhooks: where the webhook sender Lambda (issue 7) plugs in. The queue, its dead-letter
queue and the table live in Storage; `attach_sender` wires a function to them."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs


def attach_sender(sender: lambda_.Function, queue: sqs.IQueue, table: dynamodb.ITable) -> None:
    """Let `sender` consume the webhook queue (failures are reported per message, so one
    bad delivery does not redeliver its batch) and record deliveries in the table."""
    sender.add_event_source(
        sources.SqsEventSource(
            queue,
            batch_size=10,
            max_batching_window=cdk.Duration.seconds(1),
            report_batch_item_failures=True,
        )
    )
    table.grant_read_write_data(sender)
