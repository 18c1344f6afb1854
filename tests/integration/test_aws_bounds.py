"""The DynamoDB task store within DynamoDB's limits (400 KB items) and with a body it
cannot read back, under moto; and the largest metadata the API accepts fits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from faceport import bounds
from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.dynamodb_tasks import DynamoDbTaskStore
from faceport.api.native.schemas import MAX_URL_CHARS
from faceport.errors import InputTooLarge
from faceport.tasks import ACTIVE, InputRef, Task, TaskParams, TaskStatus, new_task_id, utcnow
from tests.support.aws import REGION, create_tables


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDbTaskStore]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        clients = AwsClients(region=REGION)
        yield DynamoDbTaskStore(create_tables()["tasks"], clients, poll_s=0.05)


def task(metadata: dict[str, Any] | None = None, url: str = "https://example.com/a.jpg") -> Task:
    return Task(
        id=new_task_id(),
        account_id="acct_1",
        operation="face_swap",
        params=TaskParams(),
        inputs={name: InputRef(url=url) for name in ("source", "target")},
        metadata=metadata,
        notify_url=url,
        created_at=utcnow(),
        price=4,
    )


def test_the_largest_accepted_task_fits_an_item(store: DynamoDbTaskStore) -> None:
    chunk = bounds.MAX_METADATA_BYTES // 8 - 16
    metadata = {f"k{i}": "é" * (chunk // 2) for i in range(4)}  # 2-byte characters
    bounds.check_metadata(metadata)
    big = task(metadata, url="https://example.com/" + "a" * (MAX_URL_CHARS - 20))
    store.create(big)
    assert store.get(big.id) == big


def test_a_task_over_the_item_limit_is_refused_before_the_write(
    store: DynamoDbTaskStore,
) -> None:
    huge = task({"x": "a" * 400_000})  # past the API's bounds: only another caller could
    with pytest.raises(InputTooLarge):
        store.create(huge)
    assert store.get(huge.id) is None


def test_an_unreadable_body_stands_in_as_failed(store: DynamoDbTaskStore) -> None:
    ok, bad = task(), task()
    store.create(ok)
    store.create(bad)
    store._clients.dynamodb.update_item(  # what a bug or a hand edit could leave
        TableName=store._table,
        Key={"id": {"S": bad.id}},
        UpdateExpression="SET body = :b",
        ExpressionAttributeValues={
            ":b": {"S": '{"id": "' + bad.id + '", "price": 4, "x": ' + "[" * 300}
        },
    )
    got = store.get(bad.id)
    assert got is not None and got.status is TaskStatus.FAILED and got.price == 4
    assert got.error is not None and got.error.code == "task_unreadable"
    listed = store.list("acct_1", status=None, limit=10, cursor=None).tasks
    assert {t.id for t in listed} == {ok.id, bad.id}
    assert store.update_if(bad.id, ACTIVE, status=TaskStatus.CANCELED) is None
    assert store.update_if(ok.id, ACTIVE, status=TaskStatus.CANCELED) is not None
