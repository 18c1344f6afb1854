"""DynamoDB under moto: the accounts and idempotency tables with the keys the stack makes
(infra/schema.py)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

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
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    create_tables(client)
    return client


class AtomicClient:
    """A moto DynamoDB client whose requests are each atomic, like DynamoDB's.

    moto's in-process backend is not thread-safe (a transaction deep-copies tables that
    other threads are changing), so every request takes a lock; the code under test still
    interleaves freely between requests. With `conflict_rate`, that share of transactions
    fails with `TransactionConflict` first, as concurrent transactions on one item do on
    DynamoDB."""

    def __init__(self, client: Any, conflict_rate: float = 0.0) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._conflict_rate = conflict_rate
        self.conflicts = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method) or name == "get_paginator":
            return method

        def locked(**kwargs: Any) -> Any:
            with self._lock:
                if name == "transact_write_items" and random.random() < self._conflict_rate:
                    self.conflicts += 1
                    reasons = [{"Code": "TransactionConflict"}] * len(kwargs["TransactItems"])
                    raise ClientError(
                        {
                            "Error": {"Code": "TransactionCanceledException", "Message": "x"},
                            "CancellationReasons": reasons,
                        },
                        name,
                    )
                return method(**kwargs)

        return locked
