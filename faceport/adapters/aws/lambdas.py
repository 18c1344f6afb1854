"""What the workflow and engine-callback Lambdas do with their events (the handlers in
functions/ only pass the event and the runtime on).

State machine steps (infra/statemachine/task.asl.json) call `handle_step` with
`{"step": name, "task_id": ..., ...}`. A `FaceportError` leaves the Lambda as `TaskFailed`
(message: the error document) and is caught into the `fail` step; throttling and other
passing AWS trouble leaves as `TransientError`, which the state machine retries.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from faceport import workflow
from faceport.adapters.aws.clients import TRANSIENT_CODES, error_code
from faceport.adapters.aws.observability import with_task
from faceport.adapters.aws.runtime import AwsRuntime
from faceport.adapters.aws.s3_blobs import read_object, split_s3_uri
from faceport.adapters.aws.sagemaker import ERROR_PREFIX
from faceport.backends import Output, Started, Waiting
from faceport.engine_protocol import (
    EngineResult,
    error_document,
    error_from_document,
)
from faceport.errors import EngineTimeout, FaceportError, error_for_code

logger = logging.getLogger(__name__)


class TaskFailed(Exception):
    """A step ended its task with a `FaceportError`; the message is its error document."""


class TransientError(Exception):
    """A step met trouble that passes (throttling, a service hiccup); retry the step."""


def handle_step(runtime: AwsRuntime, event: dict[str, Any]) -> dict[str, Any]:
    """Run one workflow step for the state machine."""
    step = _STEPS[event["step"]]
    try:
        return step(runtime, event)
    except FaceportError as error:
        raise TaskFailed(error_document(error).decode()) from error
    except Exception as exc:
        if _is_transient(exc):
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        raise


def _prepare(runtime: AwsRuntime, event: dict[str, Any]) -> dict[str, Any]:
    deps, task_id = runtime.workflow, event["task_id"]
    prepared = workflow.begin(deps, task_id) and workflow.prepare(deps, task_id)
    provider = prepared is not None and workflow.first_is_provider(deps, prepared)
    return {"run": prepared is not None, "route": "provider" if provider else "engine"}


# -- the provider branch (see docs/ARCHITECTURE.md, "External providers") ---------------


def _provider_answer(started: Started) -> dict[str, Any]:
    """What the branch's Choice reads: the engine next, done (the output to finalize),
    wait for the callback or wait and poll (`wait_s`), or the task is gone."""
    answer: dict[str, Any] = {"next": "gone", "wait_s": 1, "output": None}
    if started is workflow.ENGINE_NEXT:
        answer["next"] = "engine"
    elif isinstance(started, Waiting):
        answer["next"] = "callback" if started.callback else "poll"
        answer["wait_s"] = max(1, math.ceil(started.poll_in_s))
    elif isinstance(started, Output):
        answer.update(next="done", output=asdict(started))
    return answer


def _provider_submit(runtime: AwsRuntime, event: dict[str, Any]) -> dict[str, Any]:
    started = workflow.start(runtime.workflow, event["task_id"], branch="provider")
    return _provider_answer(started)


def _provider_await(runtime: AwsRuntime, event: dict[str, Any]) -> dict[str, Any]:
    task_id, token = event["task_id"], event["task_token"]
    if not runtime.orchestrator.await_callback(task_id, token):
        # The task ended meanwhile: nothing will call back, so end the wait here.
        runtime.clients.stepfunctions.send_task_success(taskToken=token, output="{}")
    return {}


def _provider_poll(runtime: AwsRuntime, event: dict[str, Any]) -> dict[str, Any]:
    return _provider_answer(workflow.poll(runtime.workflow, event["task_id"]))


def _dispatch(runtime: AwsRuntime, event: dict[str, Any]) -> dict[str, Any]:
    task_id, token = event["task_id"], event["task_token"]
    if workflow.start(runtime.workflow, task_id, callback=token, branch="engine") is None:
        # Canceled meanwhile: nothing will call back, so end the wait here.
        runtime.clients.stepfunctions.send_task_success(taskToken=token, output="{}")
    return {}


def _collect(runtime: AwsRuntime, event: dict[str, Any]) -> dict[str, Any]:
    location = event["engine"].get("output_location")
    if location is None:
        return {"output": None}
    body = read_object(runtime.clients, *split_s3_uri(location))
    result = EngineResult(content_type=event["engine"]["content_type"], body=body)
    output = workflow.collect(runtime.workflow, event["task_id"], result)
    return {"output": None if output is None else asdict(output)}


def _finalize(runtime: AwsRuntime, event: dict[str, Any]) -> dict[str, Any]:
    if event.get("output") is not None:
        workflow.finalize(runtime.workflow, event["task_id"], Output(**event["output"]))
    return {}


def _fail(runtime: AwsRuntime, event: dict[str, Any]) -> dict[str, Any]:
    error = error_from_catch(event["error"])
    workflow.fail(runtime.workflow, event["task_id"], error)
    return {"code": error.code}


_STEPS: dict[str, Callable[[AwsRuntime, dict[str, Any]], dict[str, Any]]] = {
    "prepare": _prepare,
    "dispatch": _dispatch,
    "collect": _collect,
    "provider_submit": _provider_submit,
    "provider_await": _provider_await,
    "provider_poll": _provider_poll,
    "finalize": _finalize,
    "fail": _fail,
}


def error_from_catch(caught: dict[str, Any]) -> FaceportError:
    """The task's error from what a Catch caught (`{"Error", "Cause"}`): our error code
    from a step or the engine, a timeout, or else an internal error (logged)."""
    name, cause = caught.get("Error", ""), caught.get("Cause") or ""
    if name in ("States.HeartbeatTimeout", "States.Timeout"):
        return EngineTimeout()
    if name.startswith(ERROR_PREFIX):  # the engine's error, from the callback
        return error_for_code(name.removeprefix(ERROR_PREFIX), cause or None)
    if name == "TaskFailed":  # a step's error: {"errorType", "errorMessage": <document>}
        try:
            return error_from_document(json.loads(cause)["errorMessage"])
        except (ValueError, KeyError, TypeError):
            return error_from_document(cause)
    logger.error("task step failed unexpectedly: %s: %s", name, cause)
    return FaceportError()


def handle_engine_notifications(runtime: AwsRuntime, event: dict[str, Any]) -> None:
    """The SNS event of the endpoint's success and error topics: complete each waiting step."""
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"])
        with_task(str(message.get("inferenceId", "")) or None)
        runtime.engine.on_notification(message)


def _is_transient(exc: Exception) -> bool:
    if error_code(exc) in TRANSIENT_CODES:
        return True
    from botocore.exceptions import ConnectionError, HTTPClientError

    return isinstance(exc, ConnectionError | HTTPClientError)
