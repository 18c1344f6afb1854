"""Every Lambda's logs are Powertools JSON with the request id as the correlation id and
the task id of the step, faceport's own loggers included."""

from __future__ import annotations

import json
from typing import Any

import pytest

from faceport.adapters.aws import lambdas
from faceport.adapters.aws.observability import observed


def test_a_step_logs_json_with_the_request_and_task_ids(capsys: pytest.CaptureFixture[str]) -> None:
    @observed
    def handler(event: dict[str, Any], context: Any) -> None:
        lambdas.logger.warning("working on it")

    class Context:
        aws_request_id = "lambda-req-1"

    handler({"step": "prepare", "task_id": "task_0123456789abcdef"}, Context())
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "working" in x]
    assert line["message"] == "working on it" and line["level"] == "WARNING"
    assert line["correlation_id"] == "lambda-req-1"
    assert line["task_id"] == "task_0123456789abcdef"

    handler({"requestContext": {"requestId": "apigw-req-2"}, "path": "/v1/tasks"}, None)
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "working" in x]
    assert line["correlation_id"] == "apigw-req-2" and line.get("task_id") is None


def test_an_ended_task_done_at_a_provider_publishes_its_provider_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import timedelta

    from faceport.adapters.aws.task_stream import task_ended
    from faceport.tasks import BackendRef, Task, TaskParams, TaskStatus, new_task_id, utcnow

    end = utcnow()
    task = Task(
        id=new_task_id(),
        account_id="acct",
        operation="face_swap",
        status=TaskStatus.SUCCEEDED,
        params=TaskParams(),
        inputs={},
        price=4,
        created_at=end - timedelta(seconds=9),
        started_at=end - timedelta(seconds=8),
        finished_at=end,
        backend=BackendRef(name="heygen", submitted_at=end - timedelta(seconds=6)),
    )
    task_ended(task)
    task_ended(task.model_copy(update={"backend": BackendRef(name="engine")}))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    provider = [line for line in lines if "ProviderSeconds" in line]
    assert [(m["provider"], m["ProviderSeconds"]) for m in provider] == [("heygen", [6.0])]
