"""DynamoDB under moto: the accounts and idempotency tables with the keys the stack makes
(infra/schema.py)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.support.aws import atomic_dynamodb_requests
from tests.support.aws import create_tables as aws_tables

ACCOUNTS_TABLE = "faceport-accounts"
IDEMPOTENCY_TABLE = "faceport-idempotency"
REGION = "eu-west-1"


def create_tables(client: Any) -> None:
    """The accounts and idempotency tables (every table of infra/schema.py, in fact)."""
    names = aws_tables(dynamodb=client)
    assert (names["accounts"], names["idempotency"]) == (ACCOUNTS_TABLE, IDEMPOTENCY_TABLE)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    atomic_dynamodb_requests(monkeypatch)
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    create_tables(client)
    return client


class ConflictingClient:
    """A moto DynamoDB client that fails `conflict_rate` of its transactions with
    `TransactionConflict` first, as concurrent transactions on one item do on DynamoDB."""

    def __init__(self, client: Any, conflict_rate: float) -> None:
        self._client = client
        self._conflict_rate = conflict_rate

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name != "transact_write_items":
            return method

        def conflicting(**kwargs: Any) -> Any:
            if random.random() < self._conflict_rate:
                reasons = [{"Code": "TransactionConflict"}] * len(kwargs["TransactItems"])
                raise ClientError(
                    {
                        "Error": {"Code": "TransactionCanceledException", "Message": "x"},
                        "CancellationReasons": reasons,
                    },
                    name,
                )
            return method(**kwargs)

        return conflicting
