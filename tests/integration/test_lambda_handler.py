"""The submit and status Lambdas' entry points on the canonical API Gateway events, wired
to the AWS adapters (under moto) exactly as in Lambda: settings from FACEPORT_* variables."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faceport.accounts import IssuedKey
from faceport.api import lambda_entry
from functions.status.handler import lambda_handler as status_handler
from functions.submit.handler import lambda_handler
from tests.conftest import b64
from tests.support.aws import AwsWorld, aws_world
from tests.support.events import load_event
from tests.support.fakes import FakeEngine
from tests.support.tiny import tiny_image


def forget_wiring() -> None:
    """Each Lambda builds its wiring on its first event: a test's world is a new start."""
    for built in (lambda_entry._services, lambda_entry._queries, lambda_entry._handler,
                  lambda_entry._query_handler):  # fmt: skip
        built.cache_clear()


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch, fake_engine: FakeEngine) -> Iterator[AwsWorld]:
    with aws_world(monkeypatch, fake_engine) as world:
        for name, value in world.settings.model_dump(exclude_defaults=True).items():
            monkeypatch.setenv(f"FACEPORT_{name.upper()}", str(value))
        forget_wiring()
        yield world
        forget_wiring()


@pytest.fixture
def caller(aws: AwsWorld) -> IssuedKey:
    """A funded account in the handler's DynamoDB store, standing in for the event's caller."""
    store = aws.runtime.services.accounts
    account = store.create_account("lambda")
    aws.runtime.services.ledger.top_up(account.id, 100, "initial")
    return store.issue_key(account.id)


def event_for(name: str, caller: IssuedKey) -> dict[str, Any]:
    """A sample event whose authorizer context names `caller`'s account and key."""
    event = load_event(name)
    event["requestContext"]["authorizer"].update(
        account_id=caller.account_id, key_id=caller.key_id, principalId=caller.key_id
    )
    return event


def test_submit_then_get_list_and_cancel_through_the_handler(
    aws: AwsWorld, caller: IssuedKey, fake_engine: FakeEngine
) -> None:
    # Hold the engine so that the cancel meets a running execution (moto cannot stop an
    # execution whose worker thread has not started yet).
    fake_engine.gate = threading.Event()
    event = event_for("api/post_face_swap", caller)
    body = json.loads(event["body"])
    body["source"] = body["target"] = {"base64": b64(tiny_image("JPEG"))}
    event["body"] = json.dumps(body)
    del event["headers"]["Prefer"], event["multiValueHeaders"]["Prefer"]

    submitted = lambda_handler(event, None)
    assert submitted["statusCode"] == 202
    task = json.loads(submitted["body"])
    assert task["metadata"] == {"order": "A-17"}
    assert fake_engine.entered.wait(10)

    for name, path, handler in [
        ("api/get_task", f"/v1/tasks/{task['id']}", status_handler),
        ("api/cancel_task", f"/v1/tasks/{task['id']}/cancel", lambda_handler),
    ]:
        event = event_for(name, caller)
        event["path"] = path
        reply = handler(event, None)
        assert reply["statusCode"] == 200, reply
        assert json.loads(reply["body"])["id"] == task["id"]

    fake_engine.gate.set()
    listed = status_handler(event_for("api/list_tasks", caller), None)
    assert listed["statusCode"] == 200
    assert json.loads(listed["body"])["data"] == []  # filtered on succeeded; ours was canceled
    stored = aws.runtime.services.tasks.get(task["id"])  # in DynamoDB, as the handler left it
    assert stored is not None and stored.status.value == "canceled"


def test_an_event_without_an_authorizer_context_is_refused(caller: IssuedKey) -> None:
    event = event_for("api/get_task", caller)
    del event["requestContext"]["authorizer"]
    reply = status_handler(event, None)
    assert reply["statusCode"] == 401
    assert json.loads(reply["body"])["error"]["code"] == "missing_api_key"


def test_sample_get_of_an_unknown_task_is_404() -> None:
    reply = status_handler(load_event("api/get_task"), None)
    assert reply["statusCode"] == 404
    assert json.loads(reply["body"])["error"]["code"] == "not_found"


def test_a_lambda_missing_a_name_of_the_stack_stops_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FACEPORT_TASKS_TABLE")
    with pytest.raises(RuntimeError, match="FACEPORT_TASKS_TABLE must be set"):
        status_handler(load_event("api/get_task"), None)


NAMES = {"WEBHOOK_QUEUE_URL": "q", "INPUTS_BUCKET": "i", "RESULTS_BUCKET": "r",
         "STATE_MACHINE_ARN": "s", "ENGINE_ENDPOINT": "e"}  # fmt: skip


def test_the_api_lambdas_never_import_the_engine() -> None:
    script = (
        "import sys, json, os\n"
        "from moto import mock_aws\n"
        "from tests.support.aws import create_tables\n"
        "from tests.support.events import load_event\n"
        f"os.environ.update({{f'FACEPORT_{{k}}': v for k, v in {NAMES!r}.items()}})\n"
        "with mock_aws():\n"
        "    for name, table in create_tables().items():\n"
        "        os.environ[f'FACEPORT_{name.upper()}_TABLE'] = table\n"
        "    from functions.status.handler import lambda_handler as status\n"
        "    from functions.submit.handler import lambda_handler as submit\n"
        "    for handler in (status, submit):\n"
        "        assert handler(load_event('api/list_tasks'), None)['statusCode'] == 200\n"
        "heavy = {'cv2', 'numpy', 'mediapipe', 'dlib', 'av', 'faceport.engine'}\n"
        "heavy &= set(sys.modules)\n"
        "print(json.dumps(sorted(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={
            "PATH": "",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
        cwd=Path(__file__).resolve().parents[2],
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
