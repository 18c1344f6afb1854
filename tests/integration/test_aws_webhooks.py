"""The AWS half of webhooks under moto: the notify step enqueues through SQS, the sender
Lambda makes the tries (a real receiver on loopback verifies them), records them in the
DynamoDB webhooks table, re-queues retries, and reports partial batch failures so that
broken messages end in the dead-letter queue."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from faceport import notify
from faceport.adapters.aws import webhook_sender
from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.webhook_sender import AwsWebhookSender
from faceport.adapters.aws.webhooks import DynamoWebhookStore, SqsWebhookQueue
from faceport.settings import Settings
from faceport.tasks import Task, TaskParams, TaskStatus, utcnow
from faceport.webhooks import DeliveryStatus, QueuedTry, final_event, new_secret
from functions.webhooks.handler import lambda_handler
from tests.support.aws import create_tables
from tests.support.events import load_event
from tests.support.webhook_receiver import Receiver, webhook_receiver

REGION = "eu-west-1"
ACCOUNT = "acct_aws"


@dataclass
class Aws:
    dynamodb: Any
    sqs: Any
    queue_url: str
    queue_arn: str
    dlq_url: str


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables("", dynamodb)  # the stack's tables (infra/schema.py), "webhooks" among them
        sqs = boto3.client("sqs", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName="webhooks-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"}
        queue_url = sqs.create_queue(
            QueueName="webhooks", Attributes={"RedrivePolicy": json.dumps(redrive)}
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        yield Aws(dynamodb, sqs, queue_url, queue_arn, dlq_url)


def settings_for(aws: Aws, **overrides: Any) -> Settings:
    return Settings(
        allow_private_urls=True,
        webhooks_table="webhooks",
        webhook_queue_url=aws.queue_url,
        webhook_retry_base_s=1,
        webhook_retry_factor=1,
        webhook_retry_jitter=0,
        webhook_max_attempts=3,
        webhook_timeout_s=1,
        **overrides,
    )


@pytest.fixture
def sender(aws: Aws) -> AwsWebhookSender:
    return AwsWebhookSender.from_settings(
        settings_for(aws), AwsClients(dynamodb=aws.dynamodb, sqs=aws.sqs)
    )


def finished_task(notify_url: str, task_id: str = "task_0000000000aa") -> Task:
    now = utcnow()
    return Task(
        id=task_id,
        account_id=ACCOUNT,
        operation="face_swap",
        status=TaskStatus.SUCCEEDED,
        params=TaskParams(),
        inputs={},
        notify_url=notify_url,
        created_at=now,
        finished_at=now,
    )


def as_lambda_event(aws: Aws, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """What the SQS event source mapping hands the Lambda for these messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": aws.queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def run_lambda_once(aws: Aws, sender: AwsWebhookSender, wait_s: int = 3) -> dict[str, Any] | None:
    """Receive a batch, run the sender on it, delete what succeeded (as the event source
    mapping does). None if no message came within `wait_s`."""
    messages = aws.sqs.receive_message(
        QueueUrl=aws.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s
    ).get("Messages", [])
    if not messages:
        return None
    response = sender.process(as_lambda_event(aws, messages))
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] not in failed:
            aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return response


def run_until_settled(aws: Aws, sender: AwsWebhookSender, task_id: str) -> Any:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run_lambda_once(aws, sender)
        (delivery,) = sender.deps.outbox.deliveries(task_id)
        if delivery.status is not DeliveryStatus.PENDING:
            return delivery
    raise AssertionError("the delivery did not settle")


def enqueue(sender: AwsWebhookSender, receiver: Receiver) -> Task:
    task = finished_task(receiver.url)
    event = final_event(task, {"id": task.id, "status": "succeeded"})
    assert event is not None
    sender.deps.outbox.enqueue(event)
    return task


def test_notify_step_enqueues_and_the_lambda_delivers_signed(
    aws: Aws, sender: AwsWebhookSender
) -> None:
    key = notify.signing_secrets(sender.deps.secrets, ACCOUNT)[0].secret
    with webhook_receiver() as receiver:
        task = enqueue(sender, receiver)
        delivery = run_until_settled(aws, sender, task.id)
        (got,) = receiver.received
    event = got.verify(key)
    assert event["type"] == "task.succeeded"
    assert event["data"] == {"id": task.id, "status": "succeeded"}
    assert got.webhook_id == delivery.event.id == f"msg_{task.id[5:]}_final"
    assert delivery.status is DeliveryStatus.DELIVERED
    assert [a.status_code for a in delivery.history] == [200]


def test_500_twice_then_200_retries_through_the_queue_with_the_same_id(
    aws: Aws, sender: AwsWebhookSender
) -> None:
    with webhook_receiver([500, 500]) as receiver:
        task = enqueue(sender, receiver)
        delivery = run_until_settled(aws, sender, task.id)
        got = list(receiver.received)
    assert [a.status_code for a in delivery.history] == [500, 500, 200]
    assert [a.number for a in delivery.history] == [1, 2, 3]
    assert len({r.webhook_id for r in got}) == 1
    assert got[1].at - got[0].at >= 0.9  # the 1 s delay went through SQS


def test_out_of_tries_is_dead_and_visible_then_redelivered(
    aws: Aws, sender: AwsWebhookSender
) -> None:
    with webhook_receiver([503, 503, 503]) as receiver:
        task = enqueue(sender, receiver)
        dead = run_until_settled(aws, sender, task.id)
        assert dead.status is DeliveryStatus.DEAD
        assert [a.status_code for a in dead.history] == [503, 503, 503]
        assert run_lambda_once(aws, sender, wait_s=1) is None  # nothing left on the queue
        enqueue(sender, receiver)  # a redelivery: same event id, a new series
        again = run_until_settled(aws, sender, task.id)
    assert again.status is DeliveryStatus.DELIVERED
    assert (again.attempts, again.series_start) == (4, 3)
    assert [a.status_code for a in again.history] == [503, 503, 503, 200]


def test_410_stops(aws: Aws, sender: AwsWebhookSender) -> None:
    with webhook_receiver([410]) as receiver:
        task = enqueue(sender, receiver)
        gone = run_until_settled(aws, sender, task.id)
        assert run_lambda_once(aws, sender, wait_s=1) is None
        assert len(receiver.received) == 1
    assert gone.status is DeliveryStatus.GONE


class ListQueue:
    """A WebhookQueue fake that keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[QueuedTry, float]] = []

    def send(self, queued: QueuedTry, delay_s: float) -> None:
        self.sent.append((queued, delay_s))


def test_an_early_message_goes_back_without_a_try(aws: Aws, sender: AwsWebhookSender) -> None:
    with webhook_receiver() as receiver:
        task = enqueue(sender, receiver)
        early = QueuedTry(
            task_id=task.id,
            event_id=f"msg_{task.id[5:]}_final",
            attempt=1,
            not_before=utcnow() + timedelta(hours=3),
        )
        queue = ListQueue()
        notify.handle_queued_try(sender.deps, queue, early)
        stale = early.model_copy(update={"attempt": 5, "not_before": utcnow()})
        notify.handle_queued_try(sender.deps, queue, stale)
        assert receiver.received == []
    ((back, delay),) = queue.sent
    assert back == early
    assert 3 * 3600 - 5 < delay <= 3 * 3600
    # SQS caps delays at 15 minutes; the real queue takes the capped one.
    SqsWebhookQueue(aws.queue_url, AwsClients(sqs=aws.sqs)).send(early, delay)


def test_a_broken_message_is_a_partial_failure_and_ends_in_the_dlq(
    aws: Aws, sender: AwsWebhookSender
) -> None:
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody="not json")
    stale = QueuedTry(task_id="task_x", event_id="msg_x", attempt=1, not_before=utcnow())
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=stale.model_dump_json())
    messages: list[dict[str, Any]] = []
    while len(messages) < 2:
        messages += aws.sqs.receive_message(
            QueueUrl=aws.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
    response = sender.process(as_lambda_event(aws, messages))
    broken = next(m["MessageId"] for m in messages if m["Body"] == "not json")
    assert response == {"batchItemFailures": [{"itemIdentifier": broken}]}
    for m in messages:  # the event source mapping deletes what succeeded
        if m["MessageId"] != broken:
            aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=m["ReceiptHandle"])
    # Received once already (maxReceiveCount 1): the next receive moves it to the DLQ.
    aws.sqs.receive_message(QueueUrl=aws.queue_url, MaxNumberOfMessages=10)
    dead = aws.sqs.receive_message(QueueUrl=aws.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["not json"]


def test_signing_secrets_are_versioned_conditional_writes(sender: AwsWebhookSender) -> None:
    store = sender.deps.secrets
    assert isinstance(store, DynamoWebhookStore)
    first = notify.signing_secrets(store, ACCOUNT)
    assert notify.signing_secrets(store, ACCOUNT) == first
    loaded = store.load(ACCOUNT)
    assert loaded.version == 1
    assert not store.save(ACCOUNT, [new_secret(utcnow())], expected_version=0)
    assert not store.save(ACCOUNT, [new_secret(utcnow())], expected_version=7)
    after = notify.rotate_secret(store, ACCOUNT, timedelta(hours=1))
    assert [s.secret for s in after][1:] == [first[0].secret]
    assert store.load(ACCOUNT).version == 2


def test_lambda_entry_on_the_canonical_event(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEPORT_WEBHOOKS_TABLE", "webhooks")
    monkeypatch.setenv("FACEPORT_WEBHOOK_QUEUE_URL", aws.queue_url)
    webhook_sender._sender.cache_clear()
    try:
        # The canonical message names a delivery this table never had: dropped as stale.
        assert lambda_handler(load_event("sqs/webhook_try"), None) == {"batchItemFailures": []}
        batch = load_event("sqs/webhook_try")
        broken = {**batch["Records"][0], "messageId": "broken-1", "body": "{}"}
        batch["Records"].append(broken)
        failures = lambda_handler(batch, None)["batchItemFailures"]
        assert failures == [{"itemIdentifier": "broken-1"}]
    finally:
        webhook_sender._sender.cache_clear()
