"""No lost webhook on AWS: the final event comes from the tasks table's DynamoDB Stream
(the stream Lambda, `adapters/aws/task_stream.py`), so a Lambda that dies right after the
write that ends a task loses nothing. Under moto: the real ASL, the workflow Lambda
in-process, the stream read by the world's stream pump (moto's DynamoDB Streams), the
sender Lambda on the SQS queue, a real receiver on loopback verifying the signature."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest

from faceport import notify
from faceport.adapters.aws import task_stream
from faceport.adapters.aws.runtime import build_task_stream
from faceport.adapters.aws.webhook_sender import AwsWebhookSender
from faceport.tasks import TaskStatus
from tests.integration.test_aws_flow import submit_swap
from tests.support.aws import AwsWorld, as_lambda_records, aws_world, stream_records
from tests.support.fakes import FakeEngine
from tests.support.webhook_receiver import Receiver, webhook_receiver


class WriterDied(Exception):
    """The Lambda that ended the task stopped right after its write (a crash, a timeout)."""


def deliver_queued(world: AwsWorld, receiver: Receiver, count: int = 1) -> None:
    """The sender Lambda on the webhook queue until `count` requests reached the receiver."""
    sender = AwsWebhookSender.from_settings(world.settings, world.runtime.clients)
    sqs, url = world.runtime.clients.sqs, world.settings.webhook_queue_url
    deadline = time.monotonic() + 20
    while len(receiver.received) < count:
        assert time.monotonic() < deadline, "no webhook arrived"
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            time.sleep(0.05)
            continue
        records = [
            {"messageId": m["MessageId"], "body": m["Body"], "eventSource": "aws:sqs"}
            for m in messages
        ]
        assert sender.process({"Records": records})["batchItemFailures"] == []
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def die_after_the_ending_write(dynamodb: Any) -> None:
    """The UpdateItem that writes a final status reaches DynamoDB, then its caller dies:
    nothing after that call in the same Lambda runs (no hook, no second write)."""
    terminal = {s.value for s in TaskStatus if s.is_terminal}

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["status"] = params.get("ExpressionAttributeValues", {}).get(":s", {}).get("S")

    def die(context: dict[str, Any], parsed: dict[str, Any], **_: Any) -> None:
        if context.get("status") in terminal and "Error" not in parsed:
            raise WriterDied("gone right after the write that ended the task")

    dynamodb.meta.events.register("before-parameter-build.dynamodb.UpdateItem", remember)
    dynamodb.meta.events.register("after-call.dynamodb.UpdateItem", die)


def metrics(out: str) -> list[dict[str, Any]]:
    """The EMF lines (CloudWatch embedded metric format) a Lambda printed."""
    lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return [line for line in lines if "CloudWatchMetrics" in line["_aws"]]


def test_the_event_is_delivered_when_the_writer_dies_after_ending_the_task(
    monkeypatch: pytest.MonkeyPatch, fake_engine: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    with webhook_receiver() as receiver, aws_world(monkeypatch, fake_engine) as world:
        die_after_the_ending_write(world.runtime.clients.dynamodb)
        task = submit_swap(world, notify_url=receiver.url)
        execution = world.wait_for_execution(task.id)
        # Finalize's write landed (succeeded), then its Lambda died: the step failed.
        done = world.runtime.services.tasks.get(task.id)
        assert done is not None and done.status is TaskStatus.SUCCEEDED
        assert execution["status"] == "FAILED"
        deliver_queued(world, receiver)
        secret = notify.signing_secrets(world.runtime.services.signing_secrets, task.account_id)
    (received,) = receiver.received
    event = received.verify(secret[0].secret)
    assert event["type"] == "task.succeeded" and event["data"]["id"] == task.id
    assert received.webhook_id == notify.final_event_of(world.runtime.services, done).id  # type: ignore[union-attr]
    # The stream Lambda counted the ended task once and its charge; the sender, its try;
    # the callback, the engine's time.
    published = metrics(capsys.readouterr().out)
    tasks = [m for m in published if "Tasks" in m]
    assert [(m["operation"], m["status"], m["Tasks"]) for m in tasks] == [
        ("face_swap", "succeeded", [1.0])
    ]
    assert [m["CreditsCharged"] for m in published if "CreditsCharged" in m] == [[done.price]]
    assert [m["outcome"] for m in published if "WebhookTries" in m] == ["delivered"]
    (engine,) = [m for m in published if "EngineSeconds" in m]  # by the engine callback
    assert engine["outcome"] == "completed" and 0 < engine["EngineSeconds"][0] < 20


def test_only_the_write_that_ends_a_task_queues_and_a_replay_queues_the_same_event(
    monkeypatch: pytest.MonkeyPatch, fake_engine: FakeEngine
) -> None:
    with aws_world(monkeypatch, fake_engine) as world:
        world.stream.stop()  # this test hands the records over itself
        task = submit_swap(world, notify_url="http://127.0.0.1:9/hook")
        world.wait_for_execution(task.id)
        records = stream_records(world.settings.tasks_table)
        # Created, running, progress..., succeeded: one record ends it.
        assert [task_stream.ended(r) for r in records].count(True) == 1
        outbox = build_task_stream(world.settings, world.runtime.clients)
        for _ in range(2):  # Lambda may hand a batch over again
            batch: dict[str, Any] = as_lambda_records(copy.deepcopy(records))
            assert task_stream.process(outbox, batch) == {"batchItemFailures": []}
        deliveries = world.runtime.services.webhooks.deliveries(task.id)
    assert [d.event.type for d in deliveries] == ["task.succeeded"]
