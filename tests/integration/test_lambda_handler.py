"""The API Lambda entry point on the canonical API Gateway events, wired to the AWS
adapters (under moto) exactly as in Lambda: settings from FACEPORT_* variables."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faceport.api import lambda_entry
from functions.api.handler import lambda_handler
from tests.conftest import b64
from tests.support.aws import AwsWorld, aws_world
from tests.support.events import load_event
from tests.support.fakes import FakeEngine
from tests.support.tiny import tiny_image


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch, fake_engine: FakeEngine) -> Iterator[AwsWorld]:
    with aws_world(monkeypatch, fake_engine) as world:
        for name, value in world.settings.model_dump(exclude_defaults=True).items():
            monkeypatch.setenv(f"FACEPORT_{name.upper()}", str(value))
        lambda_entry._app.cache_clear()
        yield world
        lambda_entry._app.cache_clear()


def test_submit_then_get_list_and_cancel_through_the_handler(aws: AwsWorld) -> None:
    event = load_event("api/post_face_swap")
    body = json.loads(event["body"])
    body["source"] = body["target"] = {"base64": b64(tiny_image("JPEG"))}
    event["body"] = json.dumps(body)
    del event["headers"]["Prefer"], event["multiValueHeaders"]["Prefer"]

    submitted = lambda_handler(event, None)
    assert submitted["statusCode"] == 202
    task = json.loads(submitted["body"])
    assert task["metadata"] == {"order": "A-17"}

    for name, path in [
        ("api/get_task", f"/v1/tasks/{task['id']}"),
        ("api/cancel_task", f"/v1/tasks/{task['id']}/cancel"),
    ]:
        event = load_event(name)
        event["path"] = path
        reply = lambda_handler(event, None)
        assert reply["statusCode"] == 200, reply
        assert json.loads(reply["body"])["id"] == task["id"]

    listed = lambda_handler(load_event("api/list_tasks"), None)
    assert listed["statusCode"] == 200
    assert json.loads(listed["body"])["data"] == []  # filtered on succeeded; ours was canceled
    stored = aws.runtime.services.tasks.get(task["id"])  # in DynamoDB, as the handler left it
    assert stored is not None and stored.status.value == "canceled"


def test_sample_get_of_an_unknown_task_is_404() -> None:
    reply = lambda_handler(load_event("api/get_task"), None)
    assert reply["statusCode"] == 404
    assert json.loads(reply["body"])["error"]["code"] == "not_found"


def test_the_api_lambda_never_imports_the_engine() -> None:
    script = (
        "import sys, json, os\n"
        "from moto import mock_aws\n"
        "from tests.support.aws import create_tables\n"
        "from tests.support.events import load_event\n"
        "with mock_aws():\n"
        "    os.environ['FACEPORT_TASKS_TABLE'] = create_tables()['tasks']\n"
        "    from functions.api.handler import lambda_handler\n"
        "    assert lambda_handler(load_event('api/list_tasks'), None)['statusCode'] == 200\n"
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
