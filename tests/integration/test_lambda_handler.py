"""The API Lambda entry point on the canonical API Gateway events."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faceport.adapters.local.sqlite_accounts import SqliteAccounts
from faceport.api import lambda_entry
from functions.api.handler import lambda_handler
from tests.conftest import b64
from tests.support.events import load_event
from tests.support.tiny import tiny_image


@pytest.fixture(autouse=True)
def local_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FACEPORT_DATA_DIR", str(tmp_path))
    lambda_entry._app.cache_clear()
    yield
    lambda_entry._app.cache_clear()


@pytest.fixture
def account_id(tmp_path: Path) -> str:
    """A funded account in the handler's store, standing in for the event's caller."""
    store = SqliteAccounts(tmp_path / "faceport.sqlite3")
    account = store.create_account("lambda")
    store.top_up(account.id, 100, "initial")
    return account.id


def event_for(name: str, account_id: str) -> dict[str, Any]:
    """A sample event whose authorizer context names `account_id`."""
    event = load_event(name)
    event["requestContext"]["authorizer"]["account_id"] = account_id
    return event


def test_submit_then_get_list_and_cancel_through_the_handler(account_id: str) -> None:
    event = event_for("api/post_face_swap", account_id)
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
        event = event_for(name, account_id)
        event["path"] = path
        reply = lambda_handler(event, None)
        assert reply["statusCode"] == 200, reply
        assert json.loads(reply["body"])["id"] == task["id"]

    listed = lambda_handler(event_for("api/list_tasks", account_id), None)
    assert listed["statusCode"] == 200
    assert json.loads(listed["body"])["data"] == []  # filtered on succeeded; ours was canceled


def test_an_event_without_an_authorizer_context_is_refused(account_id: str) -> None:
    event = event_for("api/get_task", account_id)
    del event["requestContext"]["authorizer"]
    reply = lambda_handler(event, None)
    assert reply["statusCode"] == 401
    assert json.loads(reply["body"])["error"]["code"] == "missing_api_key"


def test_sample_get_of_an_unknown_task_is_404() -> None:
    reply = lambda_handler(load_event("api/get_task"), None)
    assert reply["statusCode"] == 404
    assert json.loads(reply["body"])["error"]["code"] == "not_found"


def test_the_api_lambda_never_imports_the_engine(tmp_path: Path) -> None:
    script = (
        "import sys, json\n"
        "from functions.api.handler import lambda_handler\n"
        "from tests.support.events import load_event\n"
        "lambda_handler(load_event('api/list_tasks'), None)\n"
        "heavy = {'cv2', 'numpy', 'mediapipe', 'dlib', 'av', 'faceport.engine'}\n"
        "heavy &= set(sys.modules)\n"
        "print(json.dumps(sorted(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"FACEPORT_DATA_DIR": str(tmp_path), "PATH": ""},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
