"""The AWS adapters on their own, under moto: DynamoDB task store, S3 blobs, the Step
Functions orchestrator and the SageMaker engine's token bookkeeping."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws

from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.dynamodb_tasks import DynamoDbTaskStore
from faceport.adapters.aws.s3_blobs import S3BlobStore
from faceport.adapters.aws.sagemaker import SageMakerAsyncEngine
from faceport.adapters.aws.stepfunctions import StepFunctionsOrchestrator
from faceport.errors import NotFound
from faceport.tasks import ACTIVE, Task, TaskStatus
from tests.support.aws import REGION, create_tables
from tests.support.tasks import make_task

RUNNING = (TaskStatus.RUNNING,)


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsClients]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield AwsClients(region=REGION)


@pytest.fixture
def store(clients: AwsClients) -> DynamoDbTaskStore:
    return DynamoDbTaskStore(create_tables()["tasks"], clients, poll_s=0.05)


# -- tasks -----------------------------------------------------------------------------


def test_a_task_round_trips_and_cannot_be_created_twice(store: DynamoDbTaskStore) -> None:
    task = make_task()
    store.create(task)
    assert store.get(task.id) == task
    assert store.get("task_000000000000ffffffffffffffff") is None
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        store.create(task)


def write_in_between(
    store: DynamoDbTaskStore, clients: AwsClients, task_id: str, **changes: object
) -> list[Task | None]:
    """Make the next update_if's write come after another writer's whole update_if (both
    read the same version first: the race a conditional write has to settle)."""
    original = clients.dynamodb.update_item
    other: list[Task | None] = []

    def update_item(**kwargs: object) -> object:
        if not other:
            clients.dynamodb.update_item = original
            other.append(store.update_if(task_id, ACTIVE, **changes))
        return original(**kwargs)

    clients.dynamodb.update_item = update_item
    return other


def test_of_two_racing_writers_exactly_one_wins(
    store: DynamoDbTaskStore, clients: AwsClients
) -> None:
    task = make_task()
    store.create(task)
    store.update_if(task.id, ACTIVE, status=TaskStatus.RUNNING)
    canceled = write_in_between(store, clients, task.id, status=TaskStatus.CANCELED)
    # Finalize read `running` too, but the cancel wrote first: finalize must lose.
    assert store.update_if(task.id, RUNNING, status=TaskStatus.SUCCEEDED) is None
    assert canceled[0] is not None
    stored = store.get(task.id)
    assert stored is not None and stored.status is TaskStatus.CANCELED


def test_an_unrelated_write_in_between_does_not_lose_the_change(
    store: DynamoDbTaskStore, clients: AwsClients
) -> None:
    task = make_task()
    store.create(task)
    write_in_between(store, clients, task.id, progress=10)
    done = store.update_if(task.id, ACTIVE, status=TaskStatus.RUNNING)
    assert done is not None and done.progress == 10 and done.status is TaskStatus.RUNNING
    assert store.get(task.id) == done


# -- blobs -----------------------------------------------------------------------------


def test_blobs_go_to_their_bucket_and_links_are_presigned_and_expire(
    clients: AwsClients,
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in ("faceport-in", "faceport-out"):
        s3.create_bucket(Bucket=bucket)
    blobs = S3BlobStore("faceport-in", "faceport-out", clients)
    blobs.put("inputs/t/source", b"abc", "image/png")
    blobs.put("results/t.png", b"png!", "image/png")
    assert s3.get_object(Bucket="faceport-in", Key="inputs/t/source")["Body"].read() == b"abc"
    assert s3.get_object(Bucket="faceport-out", Key="results/t.png")["ContentType"] == "image/png"
    assert blobs.get("results/t.png") == b"png!"

    url = urlsplit(blobs.url_for("results/t.png", 600))
    query = parse_qs(url.query)
    assert (
        url.path == "/results/t.png" and url.hostname is not None and "faceport-out" in url.hostname
    )
    assert query["X-Amz-Expires"] == ["600"] and "X-Amz-Signature" in query

    blobs.delete("results/t.png")
    with pytest.raises(NotFound):
        blobs.get("results/t.png")


def test_files_go_through_s3_whole_without_passing_through_memory_at_once(
    clients: AwsClients, tmp_path: Path
) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="faceport-out")
    blobs = S3BlobStore("faceport-in", "faceport-out", clients)
    video = tmp_path / "out.mp4"
    video.write_bytes(os.urandom(9 * 1024 * 1024))  # above boto3's 8 MiB multipart threshold
    blobs.put_file("results/t.mp4", video, "video/mp4")
    back = tmp_path / "back.mp4"
    blobs.get_file("results/t.mp4", back)
    assert back.read_bytes() == video.read_bytes()
    with pytest.raises(NotFound):
        blobs.get_file("results/missing.mp4", tmp_path / "missing")


# -- orchestrator ----------------------------------------------------------------------


def test_execution_is_named_by_the_task_and_cancel_stops_it(clients: AwsClients) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    arn = sfn.create_state_machine(
        name="m", definition=json.dumps(waiting), roleArn=f"arn:aws:iam::{'1' * 12}:role/r"
    )["stateMachineArn"]
    orchestrator = StepFunctionsOrchestrator(arn, clients, {"heartbeat_s": 5, "timeout_s": 9})
    task = make_task()
    orchestrator.start(task)
    orchestrator.start(task)  # the same task again: no second execution
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == [task.id]
    described = sfn.describe_execution(executionArn=orchestrator.execution_arn(task.id))
    assert json.loads(described["input"]) == {
        "task_id": task.id,
        "engine": {"heartbeat_s": 5, "timeout_s": 9},
    }
    orchestrator.cancel(task.id)
    assert sfn.describe_execution(executionArn=executions[0]["executionArn"])["status"] == "ABORTED"
    orchestrator.cancel(make_task().id)  # never started: nothing to stop, no error


# -- SageMaker engine bookkeeping ------------------------------------------------------


def test_a_notification_for_an_unknown_inference_is_ignored(
    store: DynamoDbTaskStore, clients: AwsClients
) -> None:
    engine = SageMakerAsyncEngine(
        "e", tasks_table="faceport-tasks", requests_bucket="in", clients=clients, timeout_s=60
    )
    engine.on_notification({"inferenceId": "task_nobody", "invocationStatus": "Completed"})
    assert engine.heartbeat("task_nobody") is False
    task = make_task()
    store.create(task)  # queued, never dispatched: no token
    assert engine.call(task.id) is None
