"""The admin CLI on a local store and on DynamoDB (by table names and by stack name), the
authorizer Lambda, and the DynamoDB rate limiter, under moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.dynamo_accounts import DynamoAccounts, DynamoRateLimiter
from faceport.cli import main
from faceport.errors import RateLimited
from functions.authorizer import handler as authorizer
from tests.support.dynamo import ACCOUNTS_TABLE, IDEMPOTENCY_TABLE, REGION
from tests.support.events import load_event


def admin(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["admin", *argv]) == 0
    out = capsys.readouterr().out
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        return out


def exercise_admin(capsys: pytest.CaptureFixture[str], where: list[str], store: Any) -> None:
    """The whole admin story against one store."""
    made = admin(capsys, *where, "create-account", "acme", "--credits", "100")
    account_id, key_id = made["account_id"], made["key_id"]
    assert made["api_key"].startswith(key_id + "_") and made["credits"] == 100
    assert store.find_key(key_id).account_id == account_id
    assert admin(capsys, *where, "top-up", account_id, "50", "--reference", "inv-1")["added"]
    assert not admin(capsys, *where, "top-up", account_id, "50", "--reference", "inv-1")["added"]
    second = admin(capsys, *where, "issue-key", account_id)
    assert admin(capsys, *where, "revoke-key", second["key_id"])["revoked_at"]
    assert store.find_key(second["key_id"]).revoked_at is not None
    balance = admin(capsys, *where, "balance", account_id)
    assert (balance["balance"], balance["reserved"], balance["available"]) == (150, 0, 150)
    table = admin(capsys, *where, "ledger", account_id).splitlines()
    assert table[0].split() == [
        "at",
        "ref",
        "kind",
        "operation",
        "balance_delta",
        "reserved_delta",
        "balance",
        "reserved",
    ]
    assert [row.split()[-2:] for row in table[1:]] == [["100", "0"], ["150", "0"]]
    assert main(["admin", *where, "balance", "acct_nobody"]) == 2
    assert "account_not_found" in capsys.readouterr().err


def test_admin_on_a_local_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from faceport.adapters.local.sqlite_accounts import SqliteAccounts

    data = tmp_path / "data"
    exercise_admin(capsys, ["--data-dir", str(data)], SqliteAccounts(data / "faceport.sqlite3"))


def test_admin_on_deployed_tables(dynamodb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--accounts-table", ACCOUNTS_TABLE, "--idempotency-table", IDEMPOTENCY_TABLE]
    exercise_admin(
        capsys, where, DynamoAccounts(ACCOUNTS_TABLE, clients=AwsClients(dynamodb=dynamodb))
    )


def test_admin_finds_the_tables_of_a_stack(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    key = {"AttributeName": "pk", "KeyType": "HASH"}
    attr = {"AttributeName": "pk", "AttributeType": "S"}
    template = {
        "Resources": {
            "Accounts": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": [key, {"AttributeName": "sk", "KeyType": "RANGE"}],
                    "AttributeDefinitions": [attr, {"AttributeName": "sk", "AttributeType": "S"}],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            },
            "Idempotency": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": [key],
                    "AttributeDefinitions": [attr],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            },
        },
        "Outputs": {
            "AccountsTableName": {"Value": {"Ref": "Accounts"}},
            "IdempotencyTableName": {"Value": {"Ref": "Idempotency"}},
        },
    }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="Faceport", TemplateBody=json.dumps(template))
    outputs = cloudformation.describe_stacks(StackName="Faceport")["Stacks"][0]["Outputs"]
    table = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "AccountsTableName")
    exercise_admin(capsys, ["--stack", "Faceport"], DynamoAccounts(table))


@pytest.fixture
def deployed(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[DynamoAccounts, str]]:
    monkeypatch.setenv("FACEPORT_ACCOUNTS_TABLE", ACCOUNTS_TABLE)
    monkeypatch.setenv("FACEPORT_IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
    authorizer._keys.cache_clear()
    store = DynamoAccounts(ACCOUNTS_TABLE, IDEMPOTENCY_TABLE, clients=AwsClients(dynamodb=dynamodb))
    account = store.create_account("lambda")
    yield store, store.issue_key(account.id).token
    authorizer._keys.cache_clear()


def authorize(headers: dict[str, str]) -> dict[str, Any]:
    event = load_event("authorizer/request")
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    answer: dict[str, Any] = authorizer.lambda_handler(event, None)
    return answer


def test_the_authorizer_lambda_allows_a_good_key(deployed: tuple[DynamoAccounts, str]) -> None:
    store, key = deployed
    answer = authorize({"X-Api-Key": key})
    statement = answer["policyDocument"]["Statement"][0]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*",
    }
    record = store.find_key(key[:20])
    assert answer["context"] == {"account_id": record.account_id, "key_id": record.id}
    assert answer["principalId"] == record.id


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer fpk_0000000000000000_" + "A" * 40}, "invalid_api_key"),
        ({"Authorization": "Bearer nonsense"}, "invalid_api_key"),
    ],
)
def test_the_authorizer_lambda_denies_with_a_code(
    deployed: tuple[DynamoAccounts, str], headers: dict[str, str], code: str
) -> None:
    answer = authorize(headers)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert answer["context"]["error_code"] == code
    assert "account_id" not in answer["context"]


def test_the_authorizer_lambda_denies_a_revoked_key(deployed: tuple[DynamoAccounts, str]) -> None:
    store, key = deployed
    assert authorize({"mj-api-secret": key})["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    store.revoke_key(key[:20])
    answer = authorize({"mj-api-secret": key})
    assert answer["context"]["error_code"] == "revoked_api_key"


def test_dynamodb_rate_limiter_counts_per_key_and_second(dynamodb: Any) -> None:
    now = [1_000.1]
    limiter = DynamoRateLimiter(
        IDEMPOTENCY_TABLE, per_s=3, clients=AwsClients(dynamodb=dynamodb), clock=lambda: now[0]
    )

    def outcomes(key_id: str, count: int) -> list[str]:
        seen = []
        for _ in range(count):
            try:
                limiter.acquire(key_id)
                seen.append("ok")
            except RateLimited as limited:
                seen.append(f"429/{limited.retry_after_s}")
        return seen

    assert outcomes("fpk_a", 5) == ["ok", "ok", "ok", "429/1", "429/1"]
    assert outcomes("fpk_b", 1) == ["ok"]  # every key has its own window
    now[0] = 1_001.0
    assert outcomes("fpk_a", 4) == ["ok", "ok", "ok", "429/1"]
