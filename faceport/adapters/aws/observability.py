"""Powertools on every Lambda: JSON logs (every `faceport.*` logger too) carrying the
request id as the correlation id and the task id where there is one, and the metrics the
AWS shape publishes as CloudWatch embedded metric format (namespace `faceport`):

- `Tasks` (dimensions operation, status): every task that ended, counted once, by the
  stream Lambda (every final write passes through it, whichever Lambda made it);
- `TaskSeconds` (operation): a succeeded task's time from start to finish;
- `CreditsCharged` (operation): the price a succeeded task was charged;
- `WebhookTries` (outcome: delivered, pending = will retry, dead, gone): each try;
- `EngineSeconds` (outcome): from the invoke of the SageMaker endpoint to its answer
  (queue wait included), by the engine callback;
- `ProviderSeconds` (provider): from the submit at an external provider to the task's end,
  by the stream Lambda.

Traces: Powertools Tracer on every handler (X-Ray, with Lambda's active tracing of
infra/functions.py), boto3 and httpx calls as subsegments; it disables itself outside
Lambda. Made on first use (nothing at import time): aws-xray-sdk costs ~0.1-0.2 s of the
first event, not of the import.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "faceport"
Handler = TypeVar("Handler", bound=Callable[..., Any])


class _Stdout(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is when it writes (Lambda's log, a test's capture),
    not the one there was when the logger was made."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


@functools.cache
def logger() -> Logger:
    """The Lambda's JSON logger (Powertools)."""
    return Logger(service=NAMESPACE, logger_handler=_Stdout())


@contextmanager
def _faceport_logs_as_json() -> Iterator[None]:
    """During one invocation, every `faceport.*` logger writes through the Powertools
    handler (so with the correlation ids), and only there; put back afterwards, so that
    nothing else in the process (a test run) inherits it."""
    log, handler = logging.getLogger(NAMESPACE), logger().registered_handler
    propagate, level = log.propagate, log.level
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logger().log_level)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.propagate = propagate
        log.setLevel(level)


@functools.cache
def tracer() -> Tracer:
    return Tracer(service=NAMESPACE)


def observed(handler: Handler) -> Handler:
    """A Lambda handler, traced, with its invocation's correlation ids on every log line:
    the API Gateway request id (else the Lambda's own), and the task id of a workflow
    step."""
    traced: list[Callable[..., Any]] = []

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        if not traced:  # responses stay out of the trace (task views, signed links)
            traced.append(tracer().capture_lambda_handler(handler, capture_response=False))
        log = logger()
        request = event.get("requestContext", {}) if isinstance(event, dict) else {}
        lambda_request = getattr(context, "aws_request_id", None)
        log.set_correlation_id(request.get("requestId") or lambda_request)
        task_id = event.get("task_id") if isinstance(event, dict) else None
        log.append_keys(task_id=task_id)
        with _faceport_logs_as_json():
            return traced[0](event, context)

    return run  # type: ignore[return-value]


def with_task(task_id: str | None) -> None:
    """The task a handler of several records is working on now (stream, callback)."""
    logger().append_keys(task_id=task_id)


def publish(
    name: str, value: float, unit: Literal["Count", "Seconds"] = "Count", **dimensions: str
) -> None:
    """One metric, flushed at once as an EMF line (the Lambda's log carries it)."""
    metric_unit = MetricUnit(unit)
    with single_metric(name=name, unit=metric_unit, value=value, namespace=NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(key, dimension)
