"""What the sync and async clients share: settings, headers, the retry rule, and turning
answers into models or exceptions. Only the I/O (send, sleep) differs between them; the
operations built from these pieces are the flows of `_core.py`."""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from faceport_client._errors import (
    FaceportError,
    RateLimitError,
    ServerError,
    TaskCanceledError,
    TaskFailedError,
    error_for,
)
from faceport_client._models import Task, TaskStatus

VERSION = "0.1.0"
# How long a submit asks the server to hold the answer when no progress is wanted.
PREFER_WAIT_S = 20
# Polling: first delay, growth, ceiling (seconds).
POLL_FIRST_S, POLL_FACTOR, POLL_MAX_S = 0.25, 1.5, 2.0
# Codes worth another try: the same request may well succeed a moment later.
_TRANSIENT_CODES = {"idempotency_key_in_progress"}
_TRANSIENT_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Config:
    """Where the server is and how to talk to it."""

    base_url: str
    api_key: str
    timeout_s: float
    max_retries: int


def make_config(
    base_url: str | None, api_key: str | None, timeout_s: float, max_retries: int
) -> Config:
    """Arguments first, then `FACEPORT_API_URL` / `FACEPORT_API_KEY`."""
    url = base_url or os.environ.get("FACEPORT_API_URL")
    key = api_key or os.environ.get("FACEPORT_API_KEY")
    if not url:
        raise FaceportError(
            "missing_api_url", "No server: pass base_url=... or set FACEPORT_API_URL."
        )
    if not key:
        raise FaceportError(
            "missing_api_key",
            "No API key: pass api_key=... or set FACEPORT_API_KEY (an operator makes one "
            "with `faceport admin create-account NAME`).",
        )
    return Config(url.rstrip("/"), key, timeout_s, max_retries)


def default_headers(config: Config) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {config.api_key}",
        "User-Agent": f"faceport-client/{VERSION}",
        "Accept": "application/json",
    }


def http_options(config: Config) -> dict[str, Any]:
    """The httpx client's settings: where the server is, the default headers, the timeout."""
    return {
        "base_url": config.base_url,
        "headers": default_headers(config),
        "timeout": config.timeout_s,
    }


def new_idempotency_key() -> str:
    """One per submit; every retry of that submit sends the same one."""
    return f"fpc_{uuid.uuid4().hex}"


def submit_headers(*, prefer_wait: bool) -> dict[str, str]:
    headers = {"Idempotency-Key": new_idempotency_key()}
    if prefer_wait:
        headers["Prefer"] = f"wait={PREFER_WAIT_S}"
    return headers


def retry_delay(attempt: int, error: Exception, *, retry_posts: bool) -> float | None:
    """Seconds to wait before try `attempt + 1`, or None when `error` is not worth another.

    Connection failures are retried when the request is safe to repeat (`retry_posts`:
    a GET, or a submit carrying its Idempotency-Key); a failure to connect at all always.
    """
    backoff: float = min(8.0, 0.5 * 2.0**attempt) * random.uniform(0.8, 1.2)
    if isinstance(error, httpx.ConnectError):
        return backoff
    if isinstance(error, httpx.TransportError):
        return backoff if retry_posts else None
    if isinstance(error, RateLimitError):
        return max(float(error.retry_after_s), 0.1)
    if isinstance(error, FaceportError) and (
        error.code in _TRANSIENT_CODES or (retry_posts and isinstance(error, ServerError))
    ):
        return backoff
    return None


def parse(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer; the matching `FaceportError` for anything else."""
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    if response.is_success:
        return body
    if response.status_code in _TRANSIENT_STATUS and body is None:
        raise ServerError(
            f"http_{response.status_code}",
            f"The server answered HTTP {response.status_code}.",
            status=response.status_code,
        )
    raise error_for(response.status_code, body, response.headers)


def finished(task: Task) -> Task:
    """The task if it succeeded; its failure or cancellation as an exception."""
    if task.status is TaskStatus.FAILED:
        raise TaskFailedError(task)
    if task.status is TaskStatus.CANCELED:
        raise TaskCanceledError(task)
    return task


def connection_failed(exc: Exception, url: str) -> FaceportError:
    from faceport_client._errors import ConnectionFailed

    return ConnectionFailed("connection_failed", f"Could not talk to {url}: {exc}.")
