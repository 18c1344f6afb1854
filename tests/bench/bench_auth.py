"""Authentication on AWS: what the REQUEST authorizer costs against authenticating inside
the API Lambda (docs/ARCHITECTURE.md, "Authentication").

Measured here, under moto (DynamoDB in-process, so a key lookup is cheaper than a real
GetItem): the authorizer's handler body, the API Lambda's resolve of `GET /v1/account`,
the in-Lambda alternative (the same `auth.authenticate` plus the resolve), and the import
time of each handler module (a cold start's share that is ours). Not measurable offline:
API Gateway's own hop to the authorizer Lambda. The dollar lines are list-price
arithmetic over the measured durations.

Run with `make bench` (or `python -m tests.bench.bench_auth`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto import mock_aws

from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.dynamo_accounts import DynamoAccounts
from faceport.adapters.aws.runtime import build_aws_runtime
from faceport.api.app import build_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.auth import authenticate, authorizer_response
from faceport.settings import Settings
from tests.support.aws import REGION, create_tables
from tests.support.events import load_event

RUNS = 300
ROOT = Path(__file__).resolve().parents[2]
# us-east-1 list prices (x86): Lambda per request and per GB-second; REST API per request.
LAMBDA_PER_REQUEST = 0.20 / 1e6
LAMBDA_PER_GB_S = 0.0000166667
REST_API_PER_REQUEST = 3.50 / 1e6
AUTHORIZER_GB, API_GB = 0.25, 1.0  # the memory sizes in infra/api.py


def timed(fn: Callable[[], Any]) -> float:
    """The median milliseconds of `fn` over RUNS calls (after 20 to warm up)."""
    for _ in range(20):
        fn()
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000


def import_ms(module: str) -> float:
    """The best of five fresh interpreters' import time of `module`, in ms."""
    script = (
        f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    runs = [
        float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True, cwd=ROOT, env=env).stdout)
        for _ in range(5)
    ]  # fmt: skip
    return min(runs) * 1000


def billed(ms: float, gb: float) -> float:
    """Dollars per request of a Lambda call of `ms` (billed by the started ms) at `gb`."""
    return LAMBDA_PER_GB_S * gb * max(1, int(ms) + 1) / 1000


def main() -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    with mock_aws():
        clients = AwsClients(region=REGION)
        tables = create_tables()
        settings = Settings(
            tasks_table=tables["tasks"],
            accounts_table=tables["accounts"],
            idempotency_table=tables["idempotency"],
            rate_limit_per_s=1_000_000,
        )
        accounts = DynamoAccounts(tables["accounts"], tables["idempotency"], clients)
        account = accounts.create_account("bench")
        key = accounts.issue_key(account.id)
        headers = {"Authorization": f"Bearer {key.token}"}
        app = build_app(build_aws_runtime(settings, clients).services)

        authorizer_event = load_event("authorizer/request")
        authorizer_event["headers"] = headers
        context = authorizer_response(authorizer_event, accounts, ROUTE_GROUPS.gateway_denies)
        api_event = load_event("api/list_tasks")
        api_event.update(path="/v1/account", queryStringParameters=None)
        api_event["multiValueQueryStringParameters"] = None
        api_event["requestContext"]["authorizer"] = context["context"]
        assert app.resolve(api_event, None)["statusCode"] == 200

        authorizer = timed(
            lambda: authorizer_response(authorizer_event, accounts, ROUTE_GROUPS.gateway_denies)
        )
        resolve = timed(lambda: app.resolve(api_event, None))
        in_lambda = timed(lambda: (authenticate(headers, accounts), app.resolve(api_event, None)))

    authorizer_import = import_ms("functions.authorizer.handler")
    api_import = import_ms("functions.submit.handler")
    print(f"medians of {RUNS} warm calls under moto (ms):")
    print(f"  authorizer handler (key lookup + policy)      {authorizer:7.2f}")
    print(f"  API Lambda resolve, caller from the context   {resolve:7.2f}")
    print(f"  API Lambda: authenticate + resolve            {in_lambda:7.2f}")
    print("cold start, import of the handler module (ms, best of 5):")
    print(f"  functions.authorizer.handler                  {authorizer_import:7.1f}")
    print(f"  functions.submit.handler                      {api_import:7.1f}")
    with_authorizer = LAMBDA_PER_REQUEST + billed(authorizer, AUTHORIZER_GB)
    inside = billed(in_lambda, API_GB) - billed(resolve, API_GB)
    print("dollars per million requests that authentication adds (list prices):")
    print(f"  REQUEST authorizer, uncached (2nd invocation) {with_authorizer * 1e6:7.3f}")
    print(f"  inside the API Lambda (longer 1 GB call)      {inside * 1e6:7.3f}")
    print(f"  for scale: API Gateway REST requests          {REST_API_PER_REQUEST * 1e6:7.3f}")


if __name__ == "__main__":
    main()
