"""boto3 clients, made on first use (never at import time) and injectable for tests."""

from __future__ import annotations

import threading
from typing import Any

# What the adapters call each service by, and the boto3 service name behind it.
_SERVICES = {
    "dynamodb": "dynamodb",
    "s3": "s3",
    "stepfunctions": "stepfunctions",
    "sagemaker_runtime": "sagemaker-runtime",
    "sqs": "sqs",
    "cloudformation": "cloudformation",
    "secretsmanager": "secretsmanager",
}

# AWS error codes that mean "try again later", whichever service says them.
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "SlowDown",
        "ThrottledException",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)


class AwsClients:
    """One boto3 client per service, created when first asked for.

    `AwsClients(sagemaker_runtime=fake)` uses `fake` for that service and real (or moto's)
    clients for the rest.
    """

    def __init__(self, region: str | None = None, **given: Any) -> None:
        unknown = set(given) - set(_SERVICES)
        if unknown:
            raise ValueError(f"unknown AWS services: {sorted(unknown)}")
        self._region = region
        self._clients: dict[str, Any] = dict(given)
        self._lock = threading.Lock()

    def _client(self, name: str) -> Any:
        with self._lock:
            if name not in self._clients:
                import boto3  # here, not at the top: the API's cold start does not pay for it
                from botocore.config import Config

                # SigV4 presigned URLs: the only kind every region (and SSE-KMS) accepts.
                config = Config(signature_version="s3v4") if name == "s3" else None
                self._clients[name] = boto3.client(
                    _SERVICES[name], region_name=self._region, config=config
                )
            return self._clients[name]

    @property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @property
    def s3(self) -> Any:
        return self._client("s3")

    @property
    def stepfunctions(self) -> Any:
        return self._client("stepfunctions")

    @property
    def sagemaker_runtime(self) -> Any:
        return self._client("sagemaker_runtime")

    @property
    def sqs(self) -> Any:
        return self._client("sqs")

    @property
    def cloudformation(self) -> Any:
        return self._client("cloudformation")

    @property
    def secretsmanager(self) -> Any:
        return self._client("secretsmanager")


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore `ClientError` (None for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code is not None else None


def read_secret(clients: AwsClients, name: str) -> str:
    """A secret's string value (a provider's API key: FACEPORT_PROVIDERS api_key_secret)."""
    value: str = clients.secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    return value
