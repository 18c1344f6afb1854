"""Both account stores behind one fixture: real SQLite, and DynamoDB under moto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.dynamo_accounts import DynamoAccounts
from faceport.adapters.local.sqlite_accounts import SqliteAccounts
from tests.support.dynamo import ACCOUNTS_TABLE, IDEMPOTENCY_TABLE, ConflictingClient, aws, dynamodb

__all__ = ["aws", "dynamodb"]


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """An AccountStore + Ledger; DynamoDB's answers one in ten transactions with a conflict
    first, to exercise the retries."""
    if request.param == "sqlite":
        return SqliteAccounts(tmp_path / "accounts.sqlite3")
    client = ConflictingClient(request.getfixturevalue("dynamodb"), conflict_rate=0.1)
    return DynamoAccounts(ACCOUNTS_TABLE, IDEMPOTENCY_TABLE, clients=AwsClients(dynamodb=client))
